import { createHash, randomUUID } from 'node:crypto';
import { signJws, verifyJws } from './jws';
import type { KeyRing } from './key-ring';
import { clusterOf, type SigningKey } from './keys';
import { assertLifetime } from './access-token';
import { checkIssuerAndExpiry, nowSeconds, reject, type ValidationOptions, type ValidationResult } from './validation';

/** Exactly the claims of the seed's sample; the user is known from the stored row, not the token. */
export interface RefreshTokenClaims {
  exp: number;
  iss: string;
  typ: 'user';
  tid: string;
  ctyp: 'refresh';
  ccid: string;
}

export interface MintedRefreshToken {
  token: string;
  tid: string;
  exp: number;
  /** SHA-256 hex of the token: the only form ever stored (seed S11). */
  hash: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export async function mintRefreshToken(
  keys: { readonly signing: SigningKey },
  input: { clientId: string; tid?: string },
  lifetimeSeconds: number,
  now = new Date(),
): Promise<MintedRefreshToken> {
  assertLifetime(lifetimeSeconds);
  if (typeof input.clientId !== 'string' || !input.clientId) throw new TypeError('clientId must be a non-empty string');
  const tid = input.tid ?? randomUUID();
  if (!UUID.test(tid)) throw new TypeError('tid must be a UUID');
  const iss = clusterOf(keys.signing.kid);
  if (!iss) throw new TypeError('the signing kid must start with the cluster id');
  const exp = nowSeconds(now) + lifetimeSeconds;
  const claims: RefreshTokenClaims = { exp, iss, typ: 'user', tid, ctyp: 'refresh', ccid: input.clientId };
  const token = await signJws(JSON.stringify(claims), keys.signing);
  return { token, tid, exp, hash: hashToken(token) };
}

/**
 * Signature, issuer, expiry and type. Whether the token is still active (not revoked, not
 * rotated away) is for the caller to ask the store, by `hashToken(token)`. Never throws.
 */
export async function validateRefreshToken(token: string, keyRing: KeyRing, options: ValidationOptions): Promise<ValidationResult<RefreshTokenClaims>> {
  try {
    const outer = await verifyJws(token, keyRing, options);
    if (!outer.valid) return outer;
    const { payload } = outer;
    if (payload.private !== undefined) return reject('wrong_type', 'this is an access token, not a refresh token');
    if (payload.ctyp !== 'refresh' || payload.typ !== 'user') return reject('wrong_type', 'this is not a refresh token');
    const problem = checkIssuerAndExpiry(payload, options);
    if (problem) return problem;
    if (typeof payload.tid !== 'string' || !UUID.test(payload.tid) || typeof payload.ccid !== 'string' || !payload.ccid) {
      return reject('malformed', 'the token lacks a valid tid or ccid claim');
    }
    outer.remember(payload.exp as number);
    const { exp, iss, tid, ccid } = payload as unknown as RefreshTokenClaims;
    return { valid: true, claims: { exp, iss, typ: 'user', tid, ctyp: 'refresh', ccid } };
  } catch {
    return reject('malformed', 'the token could not be read');
  }
}
