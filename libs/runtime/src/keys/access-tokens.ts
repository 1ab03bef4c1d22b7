import type { AccessTokenClaims, AccessTokens, MintedAccessToken, MintedRefreshToken, RefreshTokenCheck, TokenCheck } from '@authz/application';
import { OAuthError } from '@authz/application';
import type { KeyCache } from '@authz/read-models';
import { AccessTokenCache, SignatureCache, hashToken, mintAccessToken, mintRefreshToken, validateAccessToken, validateRefreshToken, type AccessTokenClaims as TokenClaims, type KeyRing } from '@authz/tokens';

/**
 * Access tokens under this node's current keys: any node validates what any other minted.
 * Refresh tokens under the current signing key or a retired one (KeyCache.refreshVerificationKey).
 */
export class KeyCacheAccessTokens implements AccessTokens {
  private readonly verified = new SignatureCache(10_000);
  private readonly validated = new AccessTokenCache<TokenClaims>(10_000);
  private readonly ring: KeyRing;
  private readonly refreshRing: KeyRing;

  constructor(private readonly keys: KeyCache) {
    // Only the current keys: an access token under a regenerated key is unknown_key (seed S7).
    this.ring = {
      verificationKey: (kid) => (keys.signing?.kid === kid ? keys.signing : undefined),
      encryptionKey: (kid) => (keys.encryption?.kid === kid ? keys.encryption : undefined),
    };
    // Refresh tokens survive a signing key regeneration: the retired public keys verify them
    // (their stored hash is what makes them valid); they are neither encrypted nor access tokens.
    this.refreshRing = {
      verificationKey: (kid) => keys.refreshVerificationKey(kid),
      encryptionKey: () => undefined,
    };
  }

  async mint(claims: AccessTokenClaims, lifetimeSeconds: number): Promise<MintedAccessToken> {
    const { signing, encryption } = this.keys;
    if (!signing || !encryption) throw new OAuthError('temporarily_unavailable', 'this node holds no keys yet');
    const minted = await mintAccessToken({ signing, encryption }, { ...claims }, lifetimeSeconds);
    return { token: minted.token, jti: minted.claims.jti, expiresAt: new Date(minted.claims.exp * 1000) };
  }

  async validate(token: string): Promise<TokenCheck> {
    const issuer = this.keys.clusterId;
    if (!issuer) return { valid: false, code: 'unknown_key', reason: 'this node holds no keys yet' };
    return validateAccessToken(token, this.ring, { issuer, cache: this.verified, validated: this.validated });
  }

  async mintRefresh(clientId: string, expiresAt: Date, tid?: string): Promise<MintedRefreshToken> {
    const { signing } = this.keys;
    if (!signing) throw new OAuthError('temporarily_unavailable', 'this node holds no keys yet');
    // exp = floor(now) + lifetime: one second before the expiry with a lifetime of one second.
    const exp = Math.floor(expiresAt.getTime() / 1000);
    const minted = await mintRefreshToken({ signing }, { clientId, tid }, 1, new Date((exp - 1) * 1000));
    return { token: minted.token, tid: minted.tid, hash: minted.hash, expiresAt: new Date(minted.exp * 1000) };
  }

  async validateRefresh(token: string): Promise<RefreshTokenCheck> {
    const issuer = this.keys.clusterId;
    if (!issuer) return { valid: false, code: 'unknown_key', reason: 'this node holds no keys yet' };
    const result = await validateRefreshToken(token, this.refreshRing, { issuer, cache: this.verified });
    if (!result.valid) return result;
    // From the event store: a regeneration on another node counts before its event gets here.
    const revokedBefore = await this.keys.refreshTokensRevokedBefore();
    return { valid: true, tid: result.claims.tid, clientId: result.claims.ccid, hash: hashToken(token), revokedBefore };
  }
}
