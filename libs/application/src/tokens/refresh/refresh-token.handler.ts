import { setTimeout as sleep } from 'node:timers/promises';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { TOKEN_ISSUED, newEvent, streamId, type TokenIssuedV1 } from '@authz/contracts';
import { GrantError, RefreshGrant, assertNotRevokedByKeyRegeneration } from '@authz/domain';
import { ClientAuthenticator } from '../../clients/authenticate-client/authenticate-client';
import { OAuthError } from '../../oauth-error';
import {
  ACCESS_TOKENS,
  EVENT_STORE,
  OAUTH_SETTINGS,
  PARAMETERS_READ_MODEL,
  REFRESH_GRANT_HISTORY,
  type AccessTokens,
  type EventStore,
  type OAuthSettings,
  type ParametersReadModel,
  type RefreshGrantHistory,
  type RequestContext,
} from '../../ports';
import { retryOnConflict } from '../../retry-on-conflict';
import { tokenLifetimes } from '../token-lifetimes';
import { RefreshTokenGrantCommand } from './refresh-token.command';
import type { TokenResponse } from '../client-credentials/client-credentials.command';

// Concurrent refreshes of one token queue on its stream: retry with a little jitter.
const ATTEMPTS = 40;
const jitter = () => sleep(Math.random() * 10);

/**
 * Seed S10: a new access token on every refresh, decided from the grant's stream and the
 * admin revocations of its user (seed S12), never from a projection. With the
 * refreshTokenRotation parameter Enabled, each refresh token is used once and answered with a
 * successor (same expiry: rotation never lengthens a session).
 */
@CommandHandler(RefreshTokenGrantCommand)
export class RefreshTokenGrantHandler implements ICommandHandler<RefreshTokenGrantCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ACCESS_TOKENS) private readonly tokens: AccessTokens,
    @Inject(PARAMETERS_READ_MODEL) private readonly parameters: ParametersReadModel,
    @Inject(OAUTH_SETTINGS) private readonly settings: OAuthSettings,
    @Inject(REFRESH_GRANT_HISTORY) private readonly history: RefreshGrantHistory,
    private readonly clients: ClientAuthenticator,
  ) {}

  async execute(command: RefreshTokenGrantCommand): Promise<TokenResponse> {
    const client = await this.clients.authenticate(command.client, false);
    if (!client.allows('refresh_token') && !client.allows('authorization_code')) {
      throw new OAuthError('unauthorized_client', 'this client may not use the refresh_token grant');
    }
    if (!command.refreshToken) throw new OAuthError('invalid_request', 'refresh_token is required');
    const check = await this.tokens.validateRefresh(command.refreshToken);
    if (!check.valid) throw new OAuthError('invalid_grant', `the refresh token is not valid (${check.code})`);
    const clientId = client.details!.clientId;
    const { values } = await this.parameters.current();
    const lifetimes = await tokenLifetimes(this.parameters);
    const context = { ...command.context, actor: `client:${clientId}` };
    try {
      return await retryOnConflict(async () => {
        const stream = streamId('grant', check.tid);
        const loaded = await this.history.load(check.tid);
        const grant = RefreshGrant.load(loaded.grant, loaded.revocations, loaded.version);
        const details = grant.usable(check.hash, clientId, new Date());
        assertNotRevokedByKeyRegeneration(grant.origin, check.revokedBefore); // signing key regenerated with revokeRefreshTokens
        const access = await this.tokens.mint(
          { sub: details.userId ?? clientId, client_id: clientId, scope: details.scope, tid: details.refreshToken.tid },
          lifetimes.access,
        );
        const accessToken = { jti: access.jti, expiresAt: access.expiresAt.toISOString() };
        const answer = { access_token: access.token, token_type: 'Bearer' as const, expires_in: lifetimes.access, scope: details.scope };
        if (values.refreshTokenRotation !== 'Enabled' && !grant.successorTid) {
          grant.refresh({ clientId, tokenHash: check.hash, now: new Date(), accessToken });
          await this.store.append(stream, grant.version, grant.uncommittedEvents(), context).catch(async (e) => {
            await jitter();
            throw e;
          });
          return answer;
        }
        // A token already rotated needs no new successor: signing one would be wasted RSA work.
        const successor = grant.successorTid ? undefined : await this.tokens.mintRefresh(clientId, new Date(details.refreshToken.expiresAt));
        const rotation = grant.rotate({
          clientId,
          tokenHash: check.hash,
          now: new Date(),
          graceSeconds: this.settings.refreshGraceSeconds,
          successor: successor && { tid: successor.tid, hash: successor.hash, expiresAt: details.refreshToken.expiresAt },
          source: { address: command.context.sourceAddress ?? null, nodeId: null },
        });
        if (rotation.outcome === 'reused') {
          await this.store.append(stream, grant.version, grant.uncommittedEvents(), context);
          await this.revokeSuccessors(grant.successorTid, context);
          throw new GrantError('REFRESH_TOKEN_REUSED', 'the refresh token was used already; its family is revoked');
        }
        if (rotation.outcome === 'grace') {
          // The same successor again: RS256 signing is deterministic, so it is re-made, not stored.
          const again = await this.tokens.mintRefresh(clientId, new Date(rotation.successor.expiresAt), rotation.successor.tid);
          await this.appendAccessOnly(details, accessToken, clientId, context);
          return { ...answer, refresh_token: again.token };
        }
        if (!successor) throw new Error('a first rotation needs its successor');
        const next = new RefreshGrant();
        next.issue({
          grantType: 'refresh_token',
          clientId,
          userId: details.userId,
          scope: details.scope,
          accessToken,
          refreshToken: { tid: successor.tid, hash: successor.hash, expiresAt: details.refreshToken.expiresAt },
          family: grant.family,
          parentTid: check.tid,
          familyPosition: grant.origin,
        });
        try {
          await this.store.appendAll(
            [
              { streamId: stream, expectedVersion: grant.version, events: grant.uncommittedEvents() },
              { streamId: streamId('grant', successor.tid), expectedVersion: 0, events: next.uncommittedEvents() },
            ],
            context,
          );
        } catch (error) {
          await jitter();
          throw error;
        }
        return { ...answer, refresh_token: successor.token };
      }, ATTEMPTS);
    } catch (error) {
      if (error instanceof GrantError) throw new OAuthError('invalid_grant', error.message);
      throw error;
    }
  }

  /** Reuse of a stolen token: every token descending from it stops working too. */
  private async revokeSuccessors(tid: string | undefined, context: RequestContext): Promise<void> {
    for (let next = tid; next; ) {
      const stream = streamId('grant', next);
      await retryOnConflict(async () => {
        const grant = new RefreshGrant().loadFromHistory(await this.store.readStream(stream));
        grant.revoke('reuse_detected');
        await this.store.append(stream, grant.version, grant.uncommittedEvents(), context);
        next = grant.successorTid;
      });
    }
  }

  private async appendAccessOnly(details: { userId: string | null; scope: string }, accessToken: TokenIssuedV1['accessToken'], clientId: string, context: RequestContext) {
    const data: TokenIssuedV1 = { grantType: 'refresh_token', clientId, userId: details.userId, scope: details.scope, accessToken };
    await this.store.append(streamId('grant', accessToken.jti), 0, [newEvent(TOKEN_ISSUED, data)], context);
  }
}
