import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { streamId } from '@authz/contracts';
import { EnterpriseParameters, PARAMETERS_STREAM_ID, parseParameterChanges } from '@authz/domain';
import { EVENT_STORE, type EventStore } from '../../ports';
import { retryOnConflict } from '../../retry-on-conflict';
import { ChangeParametersCommand, type ChangeParametersResult } from './change-parameters.command';

const STREAM = streamId('parameters', PARAMETERS_STREAM_ID);

@CommandHandler(ChangeParametersCommand)
export class ChangeParametersHandler implements ICommandHandler<ChangeParametersCommand> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ changes, context }: ChangeParametersCommand): Promise<ChangeParametersResult> {
    const requested = parseParameterChanges(changes);
    return retryOnConflict(async () => {
      const parameters = new EnterpriseParameters().loadFromHistory(await this.store.readStream(STREAM));
      parameters.change(requested);
      const appended = await this.store.append(STREAM, parameters.version, parameters.uncommittedEvents(), context);
      return { values: parameters.current(), position: appended.at(-1)?.position ?? null };
    });
  }
}
