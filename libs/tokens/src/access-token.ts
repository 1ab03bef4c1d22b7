import { randomUUID } from 'node:crypto';
import { aadOf, decrypt, encrypt, type Aad } from './a128cbc-hs256';
import type { AccessTokenCache } from './access-token-cache';
import { decodeSigned, hasExactKeys, parseJsonObject, type JsonObject } from './compact';
import { signJws, verifyJws } from './jws';
import type { KeyRing } from './key-ring';
import { clusterOf, type EncryptionKey, type SigningKey } from './keys';
import { HeaderMemo } from './memo';
import { checkCompact, checkIssuerAndExpiry, nowSeconds, reject, type Rejection, type ValidationOptions, type ValidationResult } from './validation';

/** The keys a node mints with. The issuer is the cluster id both kids start with. */
export interface MintingKeys {
  readonly signing: SigningKey;
  readonly encryption: EncryptionKey;
}

/** What the caller decides; any further claim is carried as given. */
export interface AccessTokenInput {
  sub: string;
  client_id: string;
  scope: string | readonly string[];
  [claim: string]: unknown;
}

export interface AccessTokenClaims {
  iss: string;
  sub: string;
  client_id: string;
  scope: string;
  iat: number;
  exp: number;
  jti: string;
  token_type: 'access';
  [claim: string]: unknown;
}

export interface MintedAccessToken {
  token: string;
  claims: AccessTokenClaims;
}

const RESERVED = ['iss', 'iat', 'exp', 'jti', 'token_type'];
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/; // RFC 6749 §3.3
const JWE_HEADER_KEYS = ['alg', 'cty', 'enc', 'kid'];
const b64url = (data: Buffer) => data.toString('base64url');

function issuerOf(keys: MintingKeys): string {
  const issuer = clusterOf(keys.signing.kid);
  if (!issuer || clusterOf(keys.encryption.kid) !== issuer) throw new TypeError('the signing and encryption keys must belong to one cluster');
  return issuer;
}

export function assertLifetime(lifetimeSeconds: number): void {
  if (!Number.isSafeInteger(lifetimeSeconds) || lifetimeSeconds < 1) throw new TypeError('lifetimeSeconds must be a positive integer');
}

/**
 * DESIGN §3: a JWS {"private": <JWE>} whose JWE (dir, A128CBC-HS256) holds the claims, so any
 * node validates it without a look-up and nobody else reads it. Throws a TypeError on bad input.
 */
export async function mintAccessToken(keys: MintingKeys, input: AccessTokenInput, lifetimeSeconds: number, now = new Date()): Promise<MintedAccessToken> {
  assertLifetime(lifetimeSeconds);
  const { sub, client_id, scope, ...extra } = input;
  if (typeof sub !== 'string' || !sub) throw new TypeError('sub must be a non-empty string');
  if (typeof client_id !== 'string' || !client_id) throw new TypeError('client_id must be a non-empty string');
  const scopes = typeof scope === 'string' ? scope : Array.isArray(scope) && scope.every((s) => SCOPE_TOKEN.test(s)) ? scope.join(' ') : undefined;
  if (scopes === undefined) throw new TypeError('scope must be a string or a list of scope tokens');
  const reserved = RESERVED.find((claim) => Object.hasOwn(extra, claim));
  if (reserved) throw new TypeError(`the ${reserved} claim is set by mintAccessToken`);

  const iat = nowSeconds(now);
  const claims: AccessTokenClaims = {
    iss: issuerOf(keys),
    sub,
    client_id,
    scope: scopes,
    iat,
    exp: iat + lifetimeSeconds,
    jti: randomUUID(),
    token_type: 'access',
    ...extra,
  };
  return { token: await signJws(JSON.stringify({ private: sealClaims(keys.encryption, claims) }), keys.signing), claims };
}

const sealingHeaders = new HeaderMemo<{ encoded: string; aad: Aad }>();

/** Every token under one key carries the same JWE header: encoded once per kid. */
function sealingHeader(kid: string): { encoded: string; aad: Aad } {
  const known = sealingHeaders.get(kid);
  if (known) return known;
  const encoded = b64url(Buffer.from(JSON.stringify({ alg: 'dir', cty: 'JWT', enc: 'A128CBC-HS256', kid })));
  return sealingHeaders.set(kid, { encoded, aad: aadOf(encoded) });
}

/** The compact JWE of the claims: header . (no encrypted key: dir) . iv . ciphertext . tag. */
function sealClaims(key: EncryptionKey, claims: AccessTokenClaims): string {
  const header = sealingHeader(key.kid);
  const { iv, ciphertext, tag } = encrypt(key.secret, header.aad, Buffer.from(JSON.stringify(claims)));
  return `${header.encoded}..${b64url(iv)}.${b64url(ciphertext)}.${b64url(tag)}`;
}

export interface AccessTokenValidationOptions extends ValidationOptions {
  /** Optional cache of access tokens that passed every check (see AccessTokenCache); off unless given. */
  validated?: AccessTokenCache<AccessTokenClaims>;
}

/** Never throws: every failure, expected or not, is a result with a stable code. */
export async function validateAccessToken(token: string, keyRing: KeyRing, options: AccessTokenValidationOptions): Promise<ValidationResult<AccessTokenClaims>> {
  try {
    const refused = checkCompact(token);
    if (refused) return refused;
    const known = options.validated?.lookup(token, keyRing);
    if (known) {
      const problem = checkIssuerAndExpiry(known, options);
      if (problem?.code === 'expired') options.validated!.forget(token);
      return problem ?? { valid: true, claims: known };
    }
    const outer = await verifyJws(token, keyRing, options);
    if (!outer.valid) return outer;
    const { payload } = outer;
    if (typeof payload.private !== 'string') {
      return payload.ctyp !== undefined
        ? reject('wrong_type', 'this is a refresh token, not an access token')
        : reject('malformed', 'the token payload has no private claim');
    }
    if (!hasExactKeys(payload, ['private'])) return reject('malformed', 'the token payload holds more than the private claim');

    const inner = openJwe(payload.private, keyRing);
    if (!inner.valid) return inner;
    const { claims } = inner;
    if (claims.token_type !== 'access') return reject('wrong_type', 'this is not an access token');
    const problem = checkIssuerAndExpiry(claims, options);
    if (problem) return problem;
    if (!isAccessClaims(claims)) return reject('malformed', 'the token lacks a required claim');
    outer.remember(claims.exp);
    if (!options.validated) return { valid: true, claims };
    return { valid: true, claims: options.validated.add(token, claims, outer, inner) };
  } catch {
    return reject('malformed', 'the token could not be read');
  }
}

const jweHeaders = new HeaderMemo<{ valid: true; kid: string; aad: Aad }>();

/** A JWE header pinned to exactly {"alg":"dir","cty":"JWT","enc":"A128CBC-HS256","kid":…}. */
function jweHeaderOf(encodedHeader: string): { valid: true; kid: string; aad: Aad } | Rejection {
  const known = jweHeaders.get(encodedHeader);
  if (known) return known;
  const header = parseJsonObject(decodeSigned(encodedHeader));
  if (!header || header.alg !== 'dir' || header.enc !== 'A128CBC-HS256') {
    return reject('bad_encryption', 'the inner token is not encrypted with dir + A128CBC-HS256');
  }
  if (!hasExactKeys(header, JWE_HEADER_KEYS) || header.cty !== 'JWT' || typeof header.kid !== 'string') {
    return reject('bad_encryption', 'the inner token header is not {alg, cty: JWT, enc, kid}');
  }
  return jweHeaders.set(encodedHeader, { valid: true, kid: header.kid, aad: aadOf(encodedHeader) });
}

/** The inner layer: header pinned to dir + A128CBC-HS256 with a current kid, then the claims. */
function openJwe(jwe: string, keyRing: KeyRing): { valid: true; claims: JsonObject; kid: string; key: EncryptionKey } | Rejection {
  try {
    const parts = jwe.split('.');
    if (parts.length !== 5) return reject('bad_encryption', 'the inner token is not a compact JWE');
    const [encodedHeader, encryptedKey, encodedIv, encodedCiphertext, encodedTag] = parts;
    const header = jweHeaderOf(encodedHeader);
    if (header.valid === false) return header;
    const key = keyRing.encryptionKey(header.kid);
    if (!key) return reject('unknown_key', 'the token is encrypted with a key that is not current');
    if (encryptedKey !== '') return reject('bad_encryption', 'dir encryption carries no encrypted key');
    const plaintext = decrypt(key.secret, header.aad, decodeSigned(encodedIv), decodeSigned(encodedCiphertext), decodeSigned(encodedTag));
    if (!plaintext) return reject('bad_encryption', 'the inner token does not decrypt');
    const claims = parseJsonObject(plaintext);
    return claims ? { valid: true, claims, kid: header.kid, key } : reject('bad_encryption', 'the inner token does not hold a JSON object');
  } catch {
    return reject('bad_encryption', 'the inner token could not be decrypted');
  }
}

function isAccessClaims(claims: JsonObject): claims is AccessTokenClaims {
  return (
    typeof claims.sub === 'string' &&
    typeof claims.client_id === 'string' &&
    typeof claims.scope === 'string' &&
    typeof claims.jti === 'string' &&
    typeof claims.iat === 'number'
  );
}
