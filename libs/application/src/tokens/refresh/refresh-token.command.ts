import { Command } from '@nestjs/cqrs';
import type { ClientCredentials } from '../../clients/authenticate-client/authenticate-client';
import type { RequestContext } from '../../ports';
import type { TokenResponse } from '../client-credentials/client-credentials.command';

export class RefreshTokenGrantCommand extends Command<TokenResponse> {
  constructor(
    readonly client: ClientCredentials,
    readonly refreshToken: string | undefined,
    readonly context: RequestContext,
  ) {
    super();
  }
}
