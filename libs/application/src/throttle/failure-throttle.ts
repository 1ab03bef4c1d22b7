/** Too many failed attempts for an account or from an address: answered with 429 and Retry-After. */
export class ThrottledError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`too many failed attempts; try again in ${retryAfterSeconds} s`);
    this.name = 'ThrottledError';
  }
}

export interface ThrottleLimits {
  /** Failures allowed per account (or client) within the window. */
  perAccount: number;
  /** Failures allowed per source address within the window: higher, as many users may share one. */
  perAddress: number;
  windowSeconds: number;
}

export const DEFAULT_THROTTLE_LIMITS: ThrottleLimits = { perAccount: 5, perAddress: 30, windowSeconds: 300 };

const MAX_KEYS = 100_000;

/**
 * Counts failed logins and client authentications in a sliding window, per account and per
 * source address, in this node's memory. A key over its limit is refused before any password
 * is checked, so guessing costs the attacker time and the server no scrypt.
 */
export class FailureThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limits: ThrottleLimits = DEFAULT_THROTTLE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws ThrottledError if the account or the address is over its limit. */
  check(account: string, address: string | undefined): void {
    const wait = Math.max(this.waitFor(`a:${account}`, this.limits.perAccount), address ? this.waitFor(`s:${address}`, this.limits.perAddress) : 0);
    if (wait > 0) throw new ThrottledError(wait);
  }

  fail(account: string, address: string | undefined): void {
    this.record(`a:${account}`);
    if (address) this.record(`s:${address}`);
  }

  /** A success clears the account's failures (not the address's: one success must not unlock a spray). */
  succeed(account: string): void {
    this.failures.delete(`a:${account}`);
  }

  private recent(key: string): number[] {
    const since = this.now() - this.limits.windowSeconds * 1000;
    const times = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (times.length === 0) this.failures.delete(key);
    else this.failures.set(key, times);
    return times;
  }

  private waitFor(key: string, limit: number): number {
    const times = this.recent(key);
    if (times.length < limit) return 0;
    // Free again when the oldest failure that keeps it over the limit leaves the window.
    const freeAt = times[times.length - limit] + this.limits.windowSeconds * 1000;
    return Math.max(1, Math.ceil((freeAt - this.now()) / 1000));
  }

  private record(key: string): void {
    if (this.failures.size >= MAX_KEYS && !this.failures.has(key)) {
      for (const k of this.failures.keys()) {
        this.recent(k);
        if (this.failures.size < MAX_KEYS) break;
      }
      if (this.failures.size >= MAX_KEYS) this.failures.delete(this.failures.keys().next().value!);
    }
    this.failures.set(key, [...this.recent(key), this.now()]);
  }
}

export const FAILURE_THROTTLE = Symbol('FailureThrottle');
