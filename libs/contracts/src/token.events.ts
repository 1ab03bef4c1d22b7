export const TOKEN_ISSUED = 'TokenIssued';

/**
 * v1. An access token (and, for some grants, a refresh token) was issued. Never the token:
 * its id (jti), and for a refresh token the SHA-256 hash of it.
 */
export interface TokenIssuedV1 {
  grantType: string;
  clientId: string;
  userId: string | null;
  scope: string;
  accessToken: { jti: string; expiresAt: string };
  refreshToken?: { tid: string; hash: string; expiresAt: string };
  /** With rotation: the tid of the family's first refresh token, and the one this replaces. */
  family?: string;
  parentTid?: string;
  /**
   * With rotation: the position of the family's first TokenIssued. An admin revocation
   * (RefreshTokensRevoked) after it covers the whole family, so a rotation racing the
   * revocation cannot hand out a live successor.
   */
  familyPosition?: number;
}

export const TOKEN_REFRESHED = 'TokenRefreshed';
export const TOKEN_REVOKED = 'TokenRevoked';
export const AUTHORIZATION_CODE_ISSUED = 'AuthorizationCodeIssued';
export const AUTHORIZATION_CODE_REDEEMED = 'AuthorizationCodeRedeemed';

/** v1. A refresh token was used: a new access token, the refresh token unchanged (seed S10). */
export interface TokenRefreshedV1 {
  clientId: string;
  userId: string | null;
  tid: string;
  accessToken: { jti: string; expiresAt: string };
}

/** v1. The grant (its refresh token) can no longer be used. */
export interface TokenRevokedV1 {
  clientId: string;
  userId: string | null;
  tid: string;
  reason: 'client_request' | 'code_replayed' | 'admin' | 'reuse_detected';
}

export const REFRESH_TOKEN_ROTATED = 'RefreshTokenRotated';
export const REFRESH_TOKEN_REUSE_DETECTED = 'RefreshTokenReuseDetected';

/** v1. With rotation on, a refresh token was used once and replaced by `successor`. */
export interface RefreshTokenRotatedV1 {
  clientId: string;
  userId: string | null;
  tid: string;
  family: string;
  rotatedAt: string;
  successor: { tid: string; hash: string; expiresAt: string };
}

/** v1. A consumed refresh token came back after the grace window: the family is revoked. */
export interface RefreshTokenReuseDetectedV1 {
  clientId: string;
  userId: string | null;
  tid: string;
  family: string;
  source: { address: string | null; nodeId: string | null };
}

/** v1. The code itself is never stored: its stream id holds its SHA-256. */
export interface AuthorizationCodeIssuedV1 {
  clientId: string;
  userId: string;
  redirectUri: string;
  scope: string;
  codeChallenge: string | null;
  codeChallengeMethod: 'S256' | null;
  expiresAt: string;
}

export interface AuthorizationCodeRedeemedV1 {
  clientId: string;
  userId: string;
  /** The grant the code became: revoked if the code is ever presented again. */
  tid: string;
}

export const ACCESS_TOKEN_REVOKED = 'AccessTokenRevoked';

/** v1. An access token revoked before its expiry (RFC 7009): introspection answers it inactive. */
export interface AccessTokenRevokedV1 {
  jti: string;
  clientId: string;
  userId: string | null;
  expiresAt: string;
}
