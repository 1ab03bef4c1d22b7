export const REFRESH_TOKENS_REVOKED = 'RefreshTokensRevoked';

/**
 * v1. Seed S12: an admin revoked every refresh token of a user (of one client when `clientId`
 * is set) issued before this event, i.e. at a lower position. Stream `revocation-<userId>`:
 * the refresh grant reads it with the grant itself, so the revocation holds at once on every
 * node, whether or not a projection has seen the tokens yet.
 */
export interface RefreshTokensRevokedV1 {
  userId: string;
  clientId: string | null;
  /** How many live refresh tokens this revoked, counted from the event store. */
  count: number;
}
