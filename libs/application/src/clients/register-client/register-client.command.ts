import { Command } from '@nestjs/cqrs';
import type { ClientRegisteredV1 } from '@authz/contracts';
import type { RequestContext } from '../../ports';

/** The answer holds the secret of a confidential client: the only time anyone sees it. */
export class RegisterClientCommand extends Command<ClientRegisteredV1 & { clientSecret?: string }> {
  constructor(
    readonly request: unknown,
    readonly context: RequestContext,
  ) {
    super();
  }
}
