import type { SignatureCache } from './signature-cache';

/** Stable reasons a token is refused: callers and tests match on them, and map them to `invalid_token`. */
export type TokenErrorCode =
  | 'too_large'
  | 'malformed'
  | 'bad_signature'
  | 'unknown_key'
  | 'bad_encryption'
  | 'wrong_type'
  | 'wrong_issuer'
  | 'expired';

export type ValidationResult<Claims> = { valid: true; claims: Claims } | { valid: false; code: TokenErrorCode; reason: string };

export type Rejection = Extract<ValidationResult<never>, { valid: false }>;

export interface ValidationOptions {
  /** The cluster id(s) whose tokens are accepted. */
  issuer: string | readonly string[];
  /** Tolerated difference between the clocks of the minting and the validating node. Default 30. */
  clockSkewSeconds?: number;
  now?: Date;
  /** Optional cache of verified signatures (see SignatureCache); off unless given. */
  cache?: SignatureCache;
  /**
   * Verify the RSA signature on the calling thread rather than on the libuv thread pool. It
   * saves the hand-off (about a fifth of the CPU per token) but holds the event loop ~25 µs:
   * for processes that already run one event loop per core (cluster, worker threads).
   * Default false: a single event loop then keeps every core busy through the pool.
   */
  verifyInline?: boolean;
}

/** Anything longer is refused before it is even split; our tokens are about 1.2 KB. */
export const MAX_TOKEN_LENGTH = 16 * 1024;
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;

/**
 * The characters of a compact JWS or JWE: base64url and the dots between segments. Checked on
 * the whole token before it is split or looked up in a cache, so that a token has one spelling:
 * decoders that mask a character to 8 bits (latin1 for the signing input, Node's base64url)
 * would otherwise read U+0100+c as c, and every such variant would validate, dodge a stored
 * hash or a revocation list keyed by the token, and fill caches.
 */
const TOKEN_CHARACTERS = /^[A-Za-z0-9_.-]*$/;

/** Type, size and alphabet, in that order: the checks before a token is read at all. */
export function checkCompact(token: unknown): Rejection | undefined {
  if (typeof token !== 'string') return reject('malformed', 'the token is not a string');
  if (token.length > MAX_TOKEN_LENGTH) return reject('too_large', `the token is longer than ${MAX_TOKEN_LENGTH} characters`);
  if (!TOKEN_CHARACTERS.test(token)) return reject('malformed', 'the token holds a character outside A-Z a-z 0-9 _ . -');
  return undefined;
}

export function reject(code: TokenErrorCode, reason: string): Rejection {
  return { valid: false, code, reason };
}

export function nowSeconds(now?: Date): number {
  return Math.floor((now?.getTime() ?? Date.now()) / 1000);
}

export function skewOf(options: ValidationOptions): number {
  const skew = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  return Number.isFinite(skew) && skew >= 0 ? skew : DEFAULT_CLOCK_SKEW_SECONDS;
}

/** Checks shared by both token types, in the order a caller would want to hear about them. */
export function checkIssuerAndExpiry(claims: { iss?: unknown; exp?: unknown }, options: ValidationOptions): Rejection | undefined {
  const issuers = typeof options.issuer === 'string' ? [options.issuer] : options.issuer;
  if (typeof claims.iss !== 'string' || !issuers.includes(claims.iss)) return reject('wrong_issuer', 'the token was issued by another cluster');
  if (typeof claims.exp !== 'number' || !Number.isSafeInteger(claims.exp)) return reject('malformed', 'the token has no valid exp claim');
  if (nowSeconds(options.now) > claims.exp + skewOf(options)) return reject('expired', 'the token has expired');
  return undefined;
}
