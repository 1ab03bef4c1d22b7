import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { streamId } from '@authz/contracts';
import { NotFoundError, TokenRevocations, parseClientId, parseUserId } from '@authz/domain';
import {
  EVENT_STORE,
  REFRESH_GRANT_HISTORY,
  UNIT_OF_WORK,
  type EventStore,
  type RefreshGrantHistory,
  type UnitOfWork,
} from '../../ports';
import { retryOnConflict } from '../../retry-on-conflict';
import { RevokeUserTokensCommand, type UserTokensRevoked } from './revoke-user-tokens.command';

/**
 * One append to `revocation-<userId>`, whatever the number of tokens: every refresh grant
 * reads its user's revocations with itself, so tokens issued before it fail at once on every
 * node, including tokens no projection has seen yet. The count is taken from the event store
 * in the same transaction.
 */
@CommandHandler(RevokeUserTokensCommand)
export class RevokeUserTokensHandler implements ICommandHandler<RevokeUserTokensCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(UNIT_OF_WORK) private readonly uow: UnitOfWork,
    @Inject(REFRESH_GRANT_HISTORY) private readonly history: RefreshGrantHistory,
  ) {}

  async execute(command: RevokeUserTokensCommand): Promise<UserTokensRevoked> {
    const userId = parseUserId(command.userId);
    const clientId = command.clientId === undefined || command.clientId === null ? null : parseClientId(command.clientId, 'client_id');
    if (!(await this.history.hasGrants(userId))) {
      throw new NotFoundError('UNKNOWN_USER', `no refresh token was ever issued to user "${userId}"`);
    }
    const stream = streamId('revocation', userId);
    return retryOnConflict(() =>
      this.uow.run(async (tx) => {
        const revocations = new TokenRevocations().loadFromHistory(await this.store.readStream(stream, tx));
        const revoked = await this.history.countLive(userId, clientId, tx);
        revocations.revoke(userId, clientId, revoked);
        const [event] = await this.store.append(stream, revocations.version, revocations.uncommittedEvents(), command.context, tx);
        return { userId, clientId, revoked, revokedAt: event.occurredAt };
      }),
    );
  }
}
