export type KeyKind = 'signing' | 'encryption';
export const KEY_KINDS: readonly KeyKind[] = ['signing', 'encryption'];

export const CLUSTER_INITIALIZED = 'ClusterInitialized';
export const KEY_REGENERATED = 'KeyRegenerated';

/** v1: the cluster id, fixed for the life of the cluster; it is every token's issuer. */
export interface ClusterInitializedV1 {
  clusterId: string;
}

/**
 * Private or secret key material wrapped with the cluster's key-encryption key (KEK):
 * AES-256-GCM, the kid as additional data. Only nodes that hold the KEK can unwrap it.
 */
export interface WrappedKey {
  alg: 'A256GCM';
  /** First 16 hex digits of SHA-256 of the KEK: tells a node it holds the wrong KEK. */
  kekId: string;
  iv: string;
  ciphertext: string;
  tag: string;
}

/** v1. A new signing (RSA) or encryption (256-bit) key; the previous one of that kind stops working. */
export interface KeyRegeneratedV1 {
  kind: KeyKind;
  /** `<clusterId>:<fingerprint>` */
  kid: string;
  /** SHA-256 hex: of the public key's SPKI DER (signing), of the raw key (encryption). */
  fingerprint: string;
  /** The public key as a JWK, for signing keys only. */
  publicJwk?: Record<string, unknown>;
  wrapped: WrappedKey;
  reason: 'bootstrap' | 'regenerate';
}

/**
 * v2 adds `revokeRefreshTokens`. A signing key regeneration leaves refresh tokens working by
 * default (they are checked by their stored hash; the retired public key still verifies their
 * signature until the longest refresh token lifetime has passed). With `true` (signing only),
 * every refresh token whose family began before this event's position is revoked, on every
 * node, at once. A v1 event reads as `false`.
 */
export interface KeyRegeneratedV2 extends KeyRegeneratedV1 {
  revokeRefreshTokens: boolean;
}

/** v1 → v2: regenerations before v2 never revoked refresh tokens on purpose. */
export const upcastKeyRegeneratedV1 = (data: unknown): KeyRegeneratedV2 => ({ ...(data as KeyRegeneratedV1), revokeRefreshTokens: false });

/**
 * Whether this KeyRegenerated (any version, e.g. straight off Kafka, which does not upcast)
 * revoked refresh tokens: only an explicit `true` does.
 */
export const revokesRefreshTokens = (data: unknown): boolean =>
  (data as Partial<KeyRegeneratedV2> | null)?.revokeRefreshTokens === true && (data as KeyRegeneratedV1).kind === 'signing';
