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
}
