import { Command } from '@nestjs/cqrs';
import type { ClientCredentials } from '../../clients/authenticate-client/authenticate-client';
import type { RequestContext } from '../../ports';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

/** RFC 6749 §4.4: a confidential service client gets an access token for itself. */
export class ClientCredentialsGrantCommand extends Command<TokenResponse> {
  constructor(
    readonly client: ClientCredentials,
    readonly scope: string | undefined,
    readonly context: RequestContext,
  ) {
    super();
  }
}
