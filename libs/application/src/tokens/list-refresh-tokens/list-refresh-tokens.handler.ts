import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { NotFoundError, ValidationError, parseClientId, parseUserId } from '@authz/domain';
import {
  REFRESH_GRANT_HISTORY,
  REFRESH_TOKEN_DETAILS_READ_MODEL,
  type RefreshGrantHistory,
  type RefreshTokenDetailsReadModel,
  type RefreshTokenState,
} from '../../ports';
import { decodeCursor, encodeCursor, parseLimit, single } from '../../paging';
import { ListRefreshTokensQuery, type RefreshTokenPage } from './list-refresh-tokens.query';

const STATES: readonly RefreshTokenState[] = ['active', 'expired', 'rotated', 'revoked'];

/** From the projection, newest first; a user who never had a refresh token is a 404, not an empty page. */
@QueryHandler(ListRefreshTokensQuery)
export class ListRefreshTokensHandler implements IQueryHandler<ListRefreshTokensQuery> {
  constructor(
    @Inject(REFRESH_TOKEN_DETAILS_READ_MODEL) private readonly tokens: RefreshTokenDetailsReadModel,
    @Inject(REFRESH_GRANT_HISTORY) private readonly history: RefreshGrantHistory,
  ) {}

  async execute({ params }: ListRefreshTokensQuery): Promise<RefreshTokenPage> {
    const user = single(params.user_id, 'user_id');
    const client = single(params.client_id, 'client_id');
    const state = single(params.state, 'state');
    if (state !== undefined && !STATES.includes(state as RefreshTokenState)) {
      throw new ValidationError('INVALID_STATE', `state must be one of ${STATES.join(', ')}`);
    }
    const filter = {
      userId: user === undefined ? undefined : parseUserId(user),
      clientId: client === undefined ? undefined : parseClientId(client, 'client_id'),
      state: state as RefreshTokenState | undefined,
    };
    const limit = parseLimit(single(params.limit, 'limit'));
    const before = decodeCursor(single(params.cursor, 'cursor'));
    const page = await this.tokens.list(filter, before, limit);
    if (filter.userId && page.items.length === 0 && before === undefined && !(await this.history.hasGrants(filter.userId))) {
      throw new NotFoundError('UNKNOWN_USER', `no refresh token was ever issued to user "${filter.userId}"`);
    }
    return { tokens: page.items, nextCursor: encodeCursor(page.next) };
  }
}
