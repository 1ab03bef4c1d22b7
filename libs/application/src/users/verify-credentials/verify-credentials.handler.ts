import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { streamId } from '@authz/contracts';
import { User, isUserId } from '@authz/domain';
import {
  CREDENTIAL_STORE,
  EVENT_STORE,
  PASSWORD_HASHER,
  type CredentialStore,
  type EventStore,
  type PasswordHasher,
} from '../../ports';
import { VerifyCredentialsQuery, type Principal } from './verify-credentials.query';
import { decoyHash } from '../decoy-hash';

/**
 * Roles come from the user's stream, not a projection, so that a new account works at once
 * on every node.
 */
@QueryHandler(VerifyCredentialsQuery)
export class VerifyCredentialsHandler implements IQueryHandler<VerifyCredentialsQuery> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CREDENTIAL_STORE) private readonly credentials: CredentialStore,
    @Inject(PASSWORD_HASHER) private readonly hasher: PasswordHasher,
  ) {}

  async execute({ userId, password }: VerifyCredentialsQuery): Promise<Principal | null> {
    // No account was ever registered under an id outside parseUserId's syntax (a NUL, say): it
    // is unknown without asking the store, which might refuse the text.
    const hash = isUserId(userId) ? await this.credentials.passwordHash(userId) : undefined;
    // An unknown user costs the same hash work as a known one, so timing does not tell them apart.
    const matches = await this.hasher.verify(password, hash ?? (await decoyHash(this.hasher)));
    if (!hash || !matches) return null;
    const user = new User().loadFromHistory(await this.store.readStream(streamId('user', userId)));
    return user.exists ? { userId, roles: user.roles } : null;
  }
}
