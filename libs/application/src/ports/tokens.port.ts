export interface AccessTokenClaims {
  sub: string;
  client_id: string;
  scope: string;
  /** The refresh grant the token came from, so that revoking the grant revokes it too. */
  tid?: string;
  /** The family of that refresh token (its first token's tid), so that revoking the family revokes it too. */
  fam?: string;
}

export interface MintedAccessToken {
  token: string;
  jti: string;
  expiresAt: Date;
}

export type TokenCheck =
  | { valid: true; claims: Record<string, unknown> & { sub: string; client_id: string; scope: string; exp: number; iat: number; jti: string; iss: string; tid?: string; fam?: string } }
  | { valid: false; code: string; reason: string };

export interface MintedRefreshToken {
  token: string;
  tid: string;
  /** SHA-256 hex of the token: the only form ever stored or published. */
  hash: string;
  expiresAt: Date;
}

export type RefreshTokenCheck =
  | {
      valid: true;
      tid: string;
      clientId: string;
      hash: string;
      /**
       * The event position of the latest signing key regeneration that revoked refresh tokens,
       * read from the event store when the token was checked (0: none). A token whose family
       * began before it is revoked: `assertNotRevokedByKeyRegeneration(grant.origin, revokedBefore)`.
       */
      revokedBefore?: number;
    }
  | { valid: false; code: string; reason: string };

/** Mints and validates self-contained access tokens, and refresh tokens, with this node's current cluster keys. */
export interface AccessTokens {
  mint(claims: AccessTokenClaims, lifetimeSeconds: number): Promise<MintedAccessToken>;
  validate(token: string): Promise<TokenCheck>;
  /** Signing is deterministic (RS256): the same client, tid and expiry give the very same token again. */
  mintRefresh(clientId: string, expiresAt: Date, tid?: string): Promise<MintedRefreshToken>;
  validateRefresh(token: string): Promise<RefreshTokenCheck>;
}

export const ACCESS_TOKENS = Symbol('AccessTokens');

export interface OAuthSettings {
  /** With rotation on, how long a used refresh token still gets the same successor, in seconds. */
  refreshGraceSeconds: number;
  /** How long an authorization code may wait to be redeemed, in seconds. */
  codeLifetimeSeconds: number;
}

export const OAUTH_SETTINGS = Symbol('OAuthSettings');
