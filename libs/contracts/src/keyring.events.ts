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
