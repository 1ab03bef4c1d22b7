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

export const REFRESH_TOKEN_FAMILY_REVOKED = 'RefreshTokenFamilyRevoked';

/**
 * v1. Every refresh token of one family (the tokens descending by rotation from one
 * authorization) stopped working at once, with the access tokens they gave: one event, so
 * that no crash can leave part of a family live. Stream `revocation-<userId>`, beside the
 * admin's revocations of the user, which every refresh of the user's tokens reads anyway.
 */
export interface RefreshTokenFamilyRevokedV1 {
  userId: string;
  clientId: string;
  /** The tid of the family's first refresh token. */
  family: string;
  /** The token whose use revoked the family. */
  tid: string;
  reason: 'reuse_detected';
}
