import type { AccessTokenClaims, AccessTokens, MintedAccessToken, MintedRefreshToken, RefreshTokenCheck, TokenCheck } from '@authz/application';
import { OAuthError } from '@authz/application';
import type { KeyCache } from '@authz/read-models';
import { AccessTokenCache, SignatureCache, hashToken, mintAccessToken, mintRefreshToken, validateAccessToken, validateRefreshToken, type AccessTokenClaims as TokenClaims, type KeyRing } from '@authz/tokens';

/** Access tokens under this node's current keys: any node validates what any other minted. */
export class KeyCacheAccessTokens implements AccessTokens {
  private readonly verified = new SignatureCache(10_000);
  private readonly validated = new AccessTokenCache<TokenClaims>(10_000);
  private readonly ring: KeyRing;

  constructor(private readonly keys: KeyCache) {
    // Only the current keys: a token under a regenerated key is unknown_key (seed S7).
    this.ring = {
      verificationKey: (kid) => (keys.signing?.kid === kid ? keys.signing : undefined),
      encryptionKey: (kid) => (keys.encryption?.kid === kid ? keys.encryption : undefined),
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
    const result = await validateRefreshToken(token, this.ring, { issuer, cache: this.verified });
    if (!result.valid) return result;
    return { valid: true, tid: result.claims.tid, clientId: result.claims.ccid, hash: hashToken(token) };
  }
}
