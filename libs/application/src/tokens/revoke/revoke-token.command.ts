import { Command } from '@nestjs/cqrs';
import type { ClientCredentials } from '../../clients/authenticate-client/authenticate-client';
import type { RequestContext } from '../../ports';

/** RFC 7009. */
export class RevokeTokenCommand extends Command<void> {
  constructor(
    readonly client: ClientCredentials,
    readonly token: string,
    readonly tokenTypeHint: string | undefined,
    readonly context: RequestContext,
  ) {
    super();
  }
}
