import { createHash } from 'node:crypto';

/**
 * Credentials that passed their slow hash, remembered for a short while under a hash of
 * (account, secret), so that a busy caller does not pay scrypt per request. Concurrent
 * requests with the same credentials share one verification: when an entry expires, the 32
 * requests in flight of a busy service would otherwise queue 32 scrypts (~56 ms each here)
 * in the thread pool, ahead of the RSA signatures of every other request.
 */
export class VerifiedCredentials<T> {
  private readonly verified = new Map<string, { value: T; until: number }>();
  private readonly pending = new Map<string, Promise<T | null>>();

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** `check` runs the slow verification: its value is kept when not null. */
  verify(account: string, secret: string, check: () => Promise<T | null>): Promise<T | null> {
    const key = createHash('sha256').update(account).update('\0').update(secret).digest('base64');
    const cached = this.verified.get(key);
    if (cached && cached.until > this.now()) return Promise.resolve(cached.value);
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const verification = check()
      .then((value) => {
        if (value !== null) {
          if (this.verified.size >= this.max) this.verified.clear();
          this.verified.set(key, { value, until: this.now() + this.ttlMs });
        }
        return value;
      })
      .finally(() => this.pending.delete(key));
    this.pending.set(key, verification);
    return verification;
  }
}
