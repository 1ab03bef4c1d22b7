import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { streamId } from '@authz/contracts';
import { AuthorizationCode, GrantError, RefreshGrant } from '@authz/domain';
import { codeStream } from '../../authorize/authorize.handler';
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
import { tokenLifetimes } from '../token-lifetimes';
import { AuthorizationCodeGrantCommand } from './authorization-code.command';

const CODE = /^[A-Za-z0-9_-]{43}$/;

/** RFC 6749 §4.1.3 with PKCE: the code becomes an access token and a refresh token, once. */
@CommandHandler(AuthorizationCodeGrantCommand)
export class AuthorizationCodeGrantHandler implements ICommandHandler<AuthorizationCodeGrantCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ACCESS_TOKENS) private readonly tokens: AccessTokens,
    @Inject(PARAMETERS_READ_MODEL) private readonly parameters: ParametersReadModel,
    private readonly clients: ClientAuthenticator,
  ) {}

  async execute(command: AuthorizationCodeGrantCommand) {
    const client = await this.clients.authenticate(command.client, false);
    if (!client.allows('authorization_code')) throw new OAuthError('unauthorized_client', 'this client may not use the authorization_code grant');
    if (!command.code) throw new OAuthError('invalid_request', 'code is required');
    if (!CODE.test(command.code)) throw new OAuthError('invalid_grant', 'the authorization code is not valid');
    const stream = codeStream(command.code);
    const code = new AuthorizationCode().loadFromHistory(await this.store.readStream(stream));
    const clientId = client.details!.clientId;
    const lifetimes = await tokenLifetimes(this.parameters);
    // Decided before anything is signed: a garbage or replayed code costs no RSA work.
    const tid = randomUUID();
    try {
      code.redeem({ clientId, redirectUri: command.redirectUri, codeVerifier: command.codeVerifier, now: new Date(), tid });
    } catch (error) {
      if (error instanceof GrantError && error.code === 'CODE_REUSED') await this.revokeFirstRedemption(code, command);
      if (error instanceof GrantError) throw new OAuthError('invalid_grant', error.message);
      throw error;
    }
    const { userId, scope } = code.details!;
    const refresh = await this.tokens.mintRefresh(clientId, new Date(Date.now() + lifetimes.refresh * 1000), tid);
    const access = await this.tokens.mint({ sub: userId, client_id: clientId, scope, tid, fam: tid }, lifetimes.access);
    const grant = new RefreshGrant();
    grant.issue({
      grantType: 'authorization_code',
      clientId,
      userId,
      scope,
      accessToken: { jti: access.jti, expiresAt: access.expiresAt.toISOString() },
      refreshToken: { tid: refresh.tid, hash: refresh.hash, expiresAt: refresh.expiresAt.toISOString() },
    });
    const context = { ...command.context, actor: `client:${clientId}` };
    // Together or not at all: a code redeemed twice at once appends twice at the same version, and one fails.
    try {
      await this.store.appendAll(
        [
          { streamId: stream, expectedVersion: code.version, events: code.uncommittedEvents() },
          { streamId: streamId('grant', refresh.tid), expectedVersion: 0, events: grant.uncommittedEvents() },
        ],
        context,
      );
    } catch (error) {
      if ((error as { code?: string }).code === 'CONCURRENCY_CONFLICT') throw new OAuthError('invalid_grant', 'the authorization code was used already');
      throw error;
    }
    return {
      access_token: access.token,
      token_type: 'Bearer' as const,
      expires_in: lifetimes.access,
      refresh_token: refresh.token,
      scope,
    };
  }

  /** A replayed code means it leaked: what it issued is revoked (RFC 6749 §4.1.2). */
  private async revokeFirstRedemption(code: AuthorizationCode, command: AuthorizationCodeGrantCommand): Promise<void> {
    const { tid } = code.redeemedAs!;
    const stream = streamId('grant', tid);
    const grant = new RefreshGrant().loadFromHistory(await this.store.readStream(stream));
    grant.revoke('code_replayed');
    await this.store.appendAll([{ streamId: stream, expectedVersion: grant.version, events: grant.uncommittedEvents(), decisive: true }], {
      ...command.context,
      actor: 'system:code-replay',
    });
  }
}
