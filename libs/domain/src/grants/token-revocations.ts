import {
  CURRENT_SCHEMA_VERSIONS,
  REFRESH_TOKEN_FAMILY_REVOKED,
  REFRESH_TOKENS_REVOKED,
  type RefreshTokenFamilyRevokedV1,
  type RefreshTokensRevokedV1,
} from '@authz/contracts';
import { AggregateRoot } from '../aggregate-root';

/**
 * Seed S12: an admin's revocations of one user's refresh tokens (stream
 * `revocation-<userId>`), and the revocations of the user's token families. Each revokes what was issued before it; RefreshGrant.load decides
 * from them whether a grant still works, so no grant stream has to be touched and a
 * revocation of 10,000 tokens is one append.
 */
export class TokenRevocations extends AggregateRoot {
  private readonly made: RefreshTokensRevokedV1[] = [];

  get revocations(): readonly RefreshTokensRevokedV1[] {
    return this.made;
  }

  /** `count` is how many live tokens the revocation covers, counted by the caller from the store. */
  revoke(userId: string, clientId: string | null, count: number): void {
    this.raise<RefreshTokensRevokedV1>(REFRESH_TOKENS_REVOKED, CURRENT_SCHEMA_VERSIONS[REFRESH_TOKENS_REVOKED], { userId, clientId, count });
  }

  /** Reuse of a rotated refresh token (RFC 9700 §4.14.2): its whole family, in one event. */
  revokeFamily(revocation: Omit<RefreshTokenFamilyRevokedV1, 'reason'>): void {
    this.raise<RefreshTokenFamilyRevokedV1>(REFRESH_TOKEN_FAMILY_REVOKED, CURRENT_SCHEMA_VERSIONS[REFRESH_TOKEN_FAMILY_REVOKED], {
      ...revocation,
      reason: 'reuse_detected',
    });
  }

  protected onRefreshTokensRevoked(data: RefreshTokensRevokedV1): void {
    this.made.push(data);
  }
}
