import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { isAccessTokenRevoked } from '../access-token-status';
import { ClientAuthenticator } from '../../clients/authenticate-client/authenticate-client';
import {
  ACCESS_TOKENS,
  EVENT_STORE,
  type AccessTokens,
  type EventStore,
} from '../../ports';
import { IntrospectTokenQuery, type IntrospectionResponse } from './introspect.query';

/** Validates with this node's keys (any node answers for a token minted on any other), then asks the store whether it was revoked. */
@QueryHandler(IntrospectTokenQuery)
export class IntrospectTokenHandler implements IQueryHandler<IntrospectTokenQuery> {
  constructor(
    @Inject(ACCESS_TOKENS) private readonly tokens: AccessTokens,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly clients: ClientAuthenticator,
  ) {}

  async execute({ caller, token }: IntrospectTokenQuery): Promise<IntrospectionResponse> {
    await this.clients.authenticate(caller, true);
    const check = await this.tokens.validate(token);
    if (!check.valid || (await isAccessTokenRevoked(this.store, check.claims))) return { active: false };
    const { sub, client_id, scope, exp, iat, jti, iss } = check.claims;
    return { active: true, token_type: 'Bearer', sub, client_id, scope, exp, iat, jti, iss };
  }
}
