import type { EventEnvelope } from '@authz/contracts';
import type { Transaction } from './event-store.port';

/** What decides whether a refresh token works, read from the event store (never a projection). */
export interface RefreshGrantHistory {
  /**
   * In one read: the grant's events but its TokenRefreshed (they decide nothing: RefreshGrant.load),
   * its stream's version, and the admin revocations of its user.
   */
  load(tid: string): Promise<{ grant: EventEnvelope[]; version: number; revocations: EventEnvelope[] }>;
  /** Refresh tokens of a user (of one client) that work now: issued, unexpired, not rotated or revoked. */
  countLive(userId: string, clientId: string | null, tx?: Transaction): Promise<number>;
  /** Whether a refresh token was ever issued to this user. */
  hasGrants(userId: string): Promise<boolean>;
  /**
   * Whether an admin revoked this user's tokens (of this client) after `issuedAt`, or, given
   * the token's refresh-token family, that family was revoked.
   */
  revokedSince(userId: string, clientId: string, issuedAt: Date, family?: string): Promise<boolean>;
}

export const REFRESH_GRANT_HISTORY = Symbol('RefreshGrantHistory');
