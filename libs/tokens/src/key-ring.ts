import type { EncryptionKey, VerificationKey } from './keys';

/**
 * The keys a validator accepts: the CURRENT ones only (seed S7: regenerating a key invalidates
 * every token issued under the old one). A kid it does not return is `unknown_key`.
 */
export interface KeyRing {
  verificationKey(kid: string): VerificationKey | undefined;
  encryptionKey(kid: string): EncryptionKey | undefined;
}

/** A ring over fixed lists; a resource server trusting several clusters passes one key of each. */
export function createKeyRing(verification: Iterable<VerificationKey | undefined>, encryption: Iterable<EncryptionKey | undefined>): KeyRing {
  const byKid = <K extends { kid: string }>(keys: Iterable<K | undefined>) => {
    const map = new Map<string, K>();
    for (const key of keys) if (key) map.set(key.kid, key);
    return map;
  };
  const signing = byKid(verification);
  const secret = byKid(encryption);
  return {
    verificationKey: (kid) => signing.get(kid),
    encryptionKey: (kid) => secret.get(kid),
  };
}
