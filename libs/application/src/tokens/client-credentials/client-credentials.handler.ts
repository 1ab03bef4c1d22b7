import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { TOKEN_ISSUED, newEvent, streamId, type TokenIssuedV1 } from '@authz/contracts';
import { parseScope } from '@authz/domain';
import { ClientAuthenticator } from '../../clients/authenticate-client/authenticate-client';
import { OAuthError } from '../../oauth-error';
import {
  ACCESS_TOKENS,
  EVENT_STORE,
  PARAMETERS_READ_MODEL,
  type AccessTokens,
  type EventStore,
  type ParametersReadModel,
} from '../../ports';
import { ClientCredentialsGrantCommand } from './client-credentials.command';

@CommandHandler(ClientCredentialsGrantCommand)
export class ClientCredentialsGrantHandler implements ICommandHandler<ClientCredentialsGrantCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ACCESS_TOKENS) private readonly tokens: AccessTokens,
    @Inject(PARAMETERS_READ_MODEL) private readonly parameters: ParametersReadModel,
    private readonly clients: ClientAuthenticator,
  ) {}

  async execute({ client: credentials, scope, context }: ClientCredentialsGrantCommand) {
    const client = await this.clients.authenticate(credentials, true);
    if (!client.allows('client_credentials')) {
      throw new OAuthError('unauthorized_client', 'this client may not use the client_credentials grant');
    }
    let requested: string[];
    try {
      requested = parseScope(scope);
    } catch {
      throw new OAuthError('invalid_scope', 'the scope parameter is malformed');
    }
    const granted = client.grantScope(requested);
    if (!granted) throw new OAuthError('invalid_scope', 'the client may not ask for that scope');
    const lifetime = (await this.parameters.current()).values.accessTokenExpiryMinutes * 60;
    const clientId = client.details!.clientId;
    const minted = await this.tokens.mint({ sub: clientId, client_id: clientId, scope: granted.join(' ') }, lifetime);
    await this.store.append(
      streamId('grant', minted.jti),
      0,
      [
        newEvent<TokenIssuedV1>(TOKEN_ISSUED, {
          grantType: 'client_credentials',
          clientId,
          userId: null,
          scope: granted.join(' '),
          accessToken: { jti: minted.jti, expiresAt: minted.expiresAt.toISOString() },
        }),
      ],
      { ...context, actor: `client:${clientId}` },
    );
    return { access_token: minted.token, token_type: 'Bearer' as const, expires_in: lifetime, scope: granted.join(' ') };
  }
}
