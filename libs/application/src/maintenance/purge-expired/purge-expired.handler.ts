import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ValidationError } from '@authz/domain';
import { EXPIRED_TOKEN_PURGE, MAX_PURGE_ROWS, type ExpiredTokenPurge } from './expired-token-purge';
import { PurgeExpiredTokensCommand } from './purge-expired.command';

/** Runs the node's purge job now, as the schedule would, and answers its summary. */
@CommandHandler(PurgeExpiredTokensCommand)
export class PurgeExpiredTokensHandler implements ICommandHandler<PurgeExpiredTokensCommand> {
  constructor(@Inject(EXPIRED_TOKEN_PURGE) private readonly purge: ExpiredTokenPurge) {}

  execute({ maxRows, context }: PurgeExpiredTokensCommand) {
    if (maxRows !== undefined && (typeof maxRows !== 'number' || !Number.isInteger(maxRows) || maxRows < 1 || maxRows > MAX_PURGE_ROWS)) {
      throw new ValidationError('INVALID_MAX_ROWS', `maxRows must be a whole number from 1 to ${MAX_PURGE_ROWS}`);
    }
    return this.purge.run({ trigger: 'manual', maxRows, context });
  }
}
