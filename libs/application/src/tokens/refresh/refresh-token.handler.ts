import { setTimeout as sleep } from 'node:timers/promises';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { TOKEN_ISSUED, newEvent, streamId, type TokenIssuedV1 } from '@authz/contracts';
import { GrantError, RefreshGrant, TokenRevocations, assertNotRevokedByKeyRegeneration } from '@authz/domain';
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
  type StreamCondition,
} from '../../ports';
import { retryOnConflict } from '../../retry-on-conflict';
import { tokenLifetimes } from '../token-lifetimes';
import { RefreshTokenGrantCommand } from './refresh-token.command';
import type { TokenResponse } from '../client-credentials/client-credentials.command';

// A conflict now means a decisive event (a rotation, a revocation) got in first: reload and decide again.
const ATTEMPTS = 5;
const jitter = () => sleep(Math.random() * 10);

/**
 * Seed S10: a new access token on every refresh, decided from the grant's stream and its
 * user's revocation stream (admin revocations, seed S12, and revocations of token families),
 * never from a projection. Every decision is made before any token is signed. A refresh with
 * rotation off appends to the new access token's stream on the condition that neither stream
 * it decided from moved, so concurrent refreshes of one token do not conflict, while none is
 * accepted after a revocation that committed first. With the refreshTokenRotation parameter
 * Enabled, each refresh token is used once and answered with a successor (same expiry:
 * rotation never lengthens a session); reuse after the grace window revokes the family in
 * the same append.
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
    const request: Refresh = { tid: check.tid, hash: check.hash, revokedBefore: check.revokedBefore, clientId, context: { ...command.context, actor: `client:${clientId}` }, lifetimes };
    try {
      return await retryOnConflict(async () => {
        const decision = await this.decide(request);
        try {
          if (values.refreshTokenRotation !== 'Enabled' && !decision.grant.successorTid) return await this.refresh(request, decision);
          return await this.rotate(request, decision, command.context.sourceAddress ?? null);
        } catch (error) {
          await jitter();
          throw error;
        }
      }, ATTEMPTS);
    } catch (error) {
      if (error instanceof GrantError) throw new OAuthError('invalid_grant', error.message);
      throw error;
    }
  }

  /** The grant and its user's revocations, as they are now, with the versions the append is conditioned on. */
  private async decide(request: Refresh): Promise<Decision> {
    const loaded = await this.history.load(request.tid);
    const grant = RefreshGrant.load(loaded.grant, loaded.revocations, loaded.version);
    const details = grant.usable(request.hash, request.clientId, new Date());
    assertNotRevokedByKeyRegeneration(grant.origin, request.revokedBefore); // signing key regenerated with revokeRefreshTokens
    const revocations = new TokenRevocations().loadFromHistory(loaded.revocations);
    const conditions: StreamCondition[] = [{ streamId: streamId('grant', request.tid), version: grant.version }];
    if (details.userId !== null) conditions.push({ streamId: streamId('revocation', details.userId), version: revocations.version });
    return { grant, details, revocations, conditions };
  }

  private async refresh(request: Refresh, { grant, details, conditions }: Decision): Promise<TokenResponse> {
    const access = await this.mintAccess(request, details);
    const event = grant.refresh({ clientId: request.clientId, tokenHash: request.hash, now: new Date(), accessToken: access.record });
    await this.store.appendAll([{ streamId: streamId('grant', access.record.jti), expectedVersion: 0, events: [event] }], request.context, conditions);
    return access.answer;
  }

  private async rotate(request: Refresh, { grant, details, revocations, conditions }: Decision, address: string | null): Promise<TokenResponse> {
    const stream = streamId('grant', request.tid);
    const revocationStream = conditions.slice(1);
    const rotation = { clientId: request.clientId, tokenHash: request.hash, now: new Date(), graceSeconds: this.settings.refreshGraceSeconds };
    const state = grant.rotationState(rotation);
    if (state === 'reused') {
      grant.rotate({ ...rotation, successor: undefined, source: { address, nodeId: null } });
      revocations.revokeFamily({ userId: details.userId!, clientId: request.clientId, family: grant.family!, tid: request.tid });
      // One append: the reused token and its whole family, or nothing.
      await this.store.appendAll([
        { streamId: stream, expectedVersion: grant.version, events: grant.uncommittedEvents(), decisive: true },
        { streamId: streamId('revocation', details.userId!), expectedVersion: revocations.version, events: revocations.uncommittedEvents(), decisive: true },
      ], request.context);
      throw new GrantError('REFRESH_TOKEN_REUSED', 'the refresh token was used already; its family is revoked');
    }
    const access = await this.mintAccess(request, details);
    if (state === 'grace') {
      const outcome = grant.rotate({ ...rotation, successor: undefined, source: { address, nodeId: null } });
      if (outcome.outcome !== 'grace') throw new Error('a use within the grace window must get the same successor');
      // The same successor again: RS256 signing is deterministic, so it is re-made, not stored.
      const again = await this.tokens.mintRefresh(request.clientId, new Date(outcome.successor.expiresAt), outcome.successor.tid);
      const issued: TokenIssuedV1 = { grantType: 'refresh_token', clientId: request.clientId, userId: details.userId, scope: details.scope, accessToken: access.record };
      await this.store.appendAll([{ streamId: streamId('grant', access.record.jti), expectedVersion: 0, events: [newEvent(TOKEN_ISSUED, issued)] }], request.context, conditions);
      return { ...access.answer, refresh_token: again.token };
    }
    const successor = await this.tokens.mintRefresh(request.clientId, new Date(details.refreshToken.expiresAt));
    grant.rotate({ ...rotation, successor: { tid: successor.tid, hash: successor.hash, expiresAt: details.refreshToken.expiresAt }, source: { address, nodeId: null } });
    const next = new RefreshGrant();
    next.issue({
      grantType: 'refresh_token',
      clientId: request.clientId,
      userId: details.userId,
      scope: details.scope,
      accessToken: access.record,
      refreshToken: { tid: successor.tid, hash: successor.hash, expiresAt: details.refreshToken.expiresAt },
      family: grant.family,
      parentTid: request.tid,
      familyPosition: grant.origin,
    });
    await this.store.appendAll(
      [
        { streamId: stream, expectedVersion: grant.version, events: grant.uncommittedEvents(), decisive: true },
        { streamId: streamId('grant', successor.tid), expectedVersion: 0, events: next.uncommittedEvents() },
      ],
      request.context,
      revocationStream,
    );
    return { ...access.answer, refresh_token: successor.token };
  }

  /** Signed once per attempt that got this far: only after the decision that it will be used. */
  private async mintAccess(request: Refresh, details: Decision['details']) {
    const access = await this.tokens.mint(
      { sub: details.userId ?? request.clientId, client_id: request.clientId, scope: details.scope, tid: details.refreshToken.tid, fam: details.family ?? details.refreshToken.tid },
      request.lifetimes.access,
    );
    return {
      record: { jti: access.jti, expiresAt: access.expiresAt.toISOString() },
      answer: { access_token: access.token, token_type: 'Bearer' as const, expires_in: request.lifetimes.access, scope: details.scope },
    };
  }
}

interface Refresh {
  tid: string;
  hash: string;
  /** KeyCache.refreshTokensRevokedBefore, from validateRefresh. */
  revokedBefore?: number;
  clientId: string;
  context: RequestContext;
  lifetimes: { access: number; refresh: number };
}

interface Decision {
  grant: RefreshGrant;
  details: ReturnType<RefreshGrant['usable']>;
  revocations: TokenRevocations;
  conditions: StreamCondition[];
}
