import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { isAccessTokenRevoked } from '../access-token-status';
import { ClientAuthenticator } from '../../clients/authenticate-client/authenticate-client';
import {
  ACCESS_TOKENS,
  EVENT_STORE,
  REFRESH_GRANT_HISTORY,
  type AccessTokens,
  type EventStore,
  type RefreshGrantHistory,
} from '../../ports';
import { IntrospectTokenQuery, type IntrospectionResponse } from './introspect.query';

/**
 * Validates with this node's keys (any node answers for a token minted on any other), then asks
 * the store whether it was revoked: by itself, with its grant, or by an admin revocation of its
 * user made after it was issued (by the clock of the node that revoked: iat has second precision).
 */
@QueryHandler(IntrospectTokenQuery)
export class IntrospectTokenHandler implements IQueryHandler<IntrospectTokenQuery> {
  constructor(
    @Inject(ACCESS_TOKENS) private readonly tokens: AccessTokens,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(REFRESH_GRANT_HISTORY) private readonly history: RefreshGrantHistory,
    private readonly clients: ClientAuthenticator,
  ) {}

  async execute({ caller, token }: IntrospectTokenQuery): Promise<IntrospectionResponse> {
    await this.clients.authenticate(caller, true);
    const check = await this.tokens.validate(token);
    if (!check.valid || (await isAccessTokenRevoked(this.store, check.claims))) return { active: false };
    const { sub, client_id, scope, exp, iat, jti, iss } = check.claims;
    // A user's token issued before an admin revoked the user's refresh tokens (seed S12), or of
    // a revoked family (tokens minted before families were named in them: their tid is checked).
    const family = typeof check.claims.fam === 'string' ? check.claims.fam : check.claims.tid;
    if (sub !== client_id && (await this.history.revokedSince(sub, client_id, new Date(iat * 1000), family))) return { active: false };
    return { active: true, token_type: 'Bearer', sub, client_id, scope, exp, iat, jti, iss };
  }
}
