import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { streamId } from '@authz/contracts';
import { GrantError, RefreshGrant } from '@authz/domain';
import { ClientAuthenticator } from '../../clients/authenticate-client/authenticate-client';
import { OAuthError } from '../../oauth-error';
import {
  ACCESS_TOKENS,
  CREDENTIAL_STORE,
  EVENT_STORE,
  PARAMETERS_READ_MODEL,
  PASSWORD_HASHER,
  type AccessTokens,
  type CredentialStore,
  type EventStore,
  type ParametersReadModel,
  type PasswordHasher,
} from '../../ports';
import { retryOnConflict } from '../../retry-on-conflict';
import { tokenLifetimes } from '../token-lifetimes';
import { RefreshTokenGrantCommand } from './refresh-token.command';

/** Seed S10: a new access token on every refresh, decided from the grant's stream, not a projection. */
@CommandHandler(RefreshTokenGrantCommand)
export class RefreshTokenGrantHandler implements ICommandHandler<RefreshTokenGrantCommand> {
  private readonly clients: ClientAuthenticator;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ACCESS_TOKENS) private readonly tokens: AccessTokens,
    @Inject(PARAMETERS_READ_MODEL) private readonly parameters: ParametersReadModel,
    @Inject(CREDENTIAL_STORE) credentials: CredentialStore,
    @Inject(PASSWORD_HASHER) hasher: PasswordHasher,
  ) {
    this.clients = new ClientAuthenticator(store, credentials, hasher);
  }

  async execute(command: RefreshTokenGrantCommand) {
    const client = await this.clients.authenticate(command.client, false);
    if (!client.allows('refresh_token') && !client.allows('authorization_code')) throw new OAuthError('unauthorized_client', 'this client may not use the refresh_token grant');
    if (!command.refreshToken) throw new OAuthError('invalid_request', 'refresh_token is required');
    const check = await this.tokens.validateRefresh(command.refreshToken);
    if (!check.valid) throw new OAuthError('invalid_grant', `the refresh token is not valid (${check.code})`);
    const clientId = client.details!.clientId;
    const stream = streamId('grant', check.tid);
    const lifetimes = await tokenLifetimes(this.parameters);
    return retryOnConflict(async () => {
      const grant = new RefreshGrant().loadFromHistory(await this.store.readStream(stream));
      const now = new Date();
      let details;
      try {
        details = grant.usable(check.hash, clientId, now);
      } catch (error) {
        if (error instanceof GrantError) throw new OAuthError('invalid_grant', error.message);
        throw error;
      }
      const access = await this.tokens.mint({ sub: details.userId ?? clientId, client_id: clientId, scope: details.scope }, lifetimes.access);
      grant.refresh({ clientId, tokenHash: check.hash, now, accessToken: { jti: access.jti, expiresAt: access.expiresAt.toISOString() } });
      await this.store.append(stream, grant.version, grant.uncommittedEvents(), { ...command.context, actor: `client:${clientId}` });
      return { access_token: access.token, token_type: 'Bearer' as const, expires_in: lifetimes.access, scope: details.scope };
    });
  }
}
