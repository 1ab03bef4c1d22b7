import type { KeyRing } from './key-ring';
import type { EncryptionKey, VerificationKey } from './keys';

interface Entry<Claims> {
  readonly claims: Readonly<Claims>;
  readonly signingKid: string;
  readonly signing: VerificationKey;
  readonly encryptionKid: string;
  readonly encryption: EncryptionKey;
}

/**
 * Access tokens that passed every check, with their claims, by the exact token: a server that
 * introspects the same token again and again then neither hashes, verifies nor decrypts it.
 * Why this is safe:
 * - an entry is found by the whole token string, so a hit means these exact bytes passed;
 * - it counts only while the key ring still returns the very key objects that verified and
 *   decrypted it: after a key regeneration nothing in it matches;
 * - issuer and expiry are checked on every hit, against that call's options;
 * - only tokens that passed every check are added, so forged tokens cannot fill it;
 * - the claims it hands out are frozen: a caller cannot change what the next one reads.
 * Bounded: past `maxEntries`, the oldest entry goes.
 */
export class AccessTokenCache<Claims extends object> {
  private readonly entries = new Map<string, Entry<Claims>>();

  constructor(readonly maxEntries = 10_000) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new TypeError('maxEntries must be a positive integer');
  }

  get size(): number {
    return this.entries.size;
  }

  /** The token's claims while its keys are still the ring's; the caller checks issuer and expiry. */
  lookup(token: string, keyRing: KeyRing): Readonly<Claims> | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (keyRing.verificationKey(entry.signingKid) === entry.signing && keyRing.encryptionKey(entry.encryptionKid) === entry.encryption) return entry.claims;
    this.entries.delete(token);
    return undefined;
  }

  add(token: string, claims: Claims, signing: { kid: string; key: VerificationKey }, encryption: { kid: string; key: EncryptionKey }): Readonly<Claims> {
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    const frozen = Object.freeze(claims);
    this.entries.set(token, { claims: frozen, signingKid: signing.kid, signing: signing.key, encryptionKid: encryption.kid, encryption: encryption.key });
    return frozen;
  }

  forget(token: string): void {
    this.entries.delete(token);
  }
}
