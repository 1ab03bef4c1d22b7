import { createHash } from 'node:crypto';
import type { VerificationKey } from './keys';

interface Entry {
  readonly key: VerificationKey;
  readonly exp: number;
}

/**
 * Remembers which exact tokens already passed the RSA check, so a resource server that sees
 * the same access token on every call verifies it once. Why this is safe:
 * - the entry is found by the SHA-256 of the whole token, so a hit means these exact bytes
 *   were verified before, and a lookup leaks nothing about the signature through timing;
 * - it counts only while the key ring still returns the very key object that verified it:
 *   after a key regeneration nothing in it matches;
 * - only tokens that passed every check are added, so forged tokens cannot fill it;
 * - it skips nothing else: the inner JWE is decrypted with the current key, and iss, exp and
 *   the type are checked on every call; entries are dropped once their token has expired.
 * Bounded: past `maxEntries`, the oldest entry goes.
 */
export class SignatureCache {
  private readonly entries = new Map<string, Entry>();

  constructor(readonly maxEntries = 10_000) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new TypeError('maxEntries must be a positive integer');
  }

  get size(): number {
    return this.entries.size;
  }

  /** The token's digest on a miss (to `add` it later without hashing twice), `true` on a hit. */
  lookup(token: string, key: VerificationKey, nowSeconds: number): string | true {
    const digest = createHash('sha256').update(token, 'latin1').digest('base64');
    const entry = this.entries.get(digest);
    if (entry) {
      if (entry.key === key && entry.exp >= nowSeconds) return true;
      this.entries.delete(digest);
    }
    return digest;
  }

  add(digest: string, key: VerificationKey, exp: number): void {
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(digest, { key, exp });
  }

  /** E.g. when the node's keys change; not needed for safety, it only frees the memory at once. */
  clear(): void {
    this.entries.clear();
  }
}
