import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPair,
  randomBytes,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';

/**
 * The cluster's RSA signing key (seed S6). `kid` is `<clusterId>:<sha256 hex of the SPKI DER>`,
 * the hash an admin compares across nodes (seed S8). Key objects are Node's own: node:crypto
 * uses them as they are, and jose converts each one once and keeps the result.
 */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** What a validator needs of a signing key: a resource server never holds the private half. */
export interface VerificationKey {
  readonly kid: string;
  readonly publicKey: KeyObject;
}

/** The cluster's symmetric key for `dir` + A128CBC-HS256: 32 bytes. `kid` hashes the raw bytes. */
export interface EncryptionKey {
  readonly kid: string;
  readonly secret: KeyObject;
}

const RSA_BITS = 2048;
const SECRET_BYTES = 32;
const generateRsa = promisify(generateKeyPair);

const sha256Hex = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * The hash shown to admins: SHA-256 hex of the public key's SPKI DER for an RSA key (public or
 * private), of the raw bytes for a secret key.
 */
export function fingerprint(key: KeyObject | Uint8Array): string {
  if (key instanceof Uint8Array) return sha256Hex(key);
  if (key.type === 'secret') return sha256Hex(key.export());
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return sha256Hex(publicKey.export({ type: 'spki', format: 'der' }));
}

export function kidFor(clusterId: string, key: KeyObject | Uint8Array): string {
  if (!clusterId || typeof clusterId !== 'string') throw new TypeError('clusterId must be a non-empty string');
  return `${clusterId}:${fingerprint(key)}`;
}

/** The cluster part of a kid ('' if none); fingerprints are hex, so the last ':' separates them. */
export function clusterOf(kid: string): string {
  const colon = kid.lastIndexOf(':');
  return colon > 0 ? kid.slice(0, colon) : '';
}

function assertRsa(key: KeyObject): void {
  if (key.asymmetricKeyType !== 'rsa') throw new TypeError('the signing key must be an RSA key');
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < RSA_BITS) throw new TypeError(`the signing key must have at least ${RSA_BITS} bits, not ${bits}`);
}

function signingKey(clusterId: string, privateKey: KeyObject): SigningKey {
  assertRsa(privateKey);
  const publicKey = createPublicKey(privateKey);
  return { kid: kidFor(clusterId, publicKey), privateKey, publicKey };
}

function encryptionKey(clusterId: string, raw: Uint8Array): EncryptionKey {
  if (raw.byteLength !== SECRET_BYTES) throw new TypeError(`the encryption key must be ${SECRET_BYTES} bytes, not ${raw.byteLength}`);
  return { kid: kidFor(clusterId, raw), secret: createSecretKey(raw) };
}

export async function generateSigningKey(clusterId: string): Promise<SigningKey> {
  const { privateKey } = await generateRsa('rsa', { modulusLength: RSA_BITS, publicExponent: 0x10001 });
  return signingKey(clusterId, privateKey);
}

export function generateEncryptionKey(clusterId: string): EncryptionKey {
  return encryptionKey(clusterId, randomBytes(SECRET_BYTES));
}

/** From PKCS#8 PEM (what `exportSigningPrivatePem` writes). Throws a TypeError on anything else. */
export function importSigningKey(clusterId: string, privatePkcs8Pem: string): SigningKey {
  if (typeof privatePkcs8Pem !== 'string' || !privatePkcs8Pem.includes('-----BEGIN PRIVATE KEY-----')) {
    throw new TypeError('the signing key must be a PKCS#8 PEM ("BEGIN PRIVATE KEY")');
  }
  return signingKey(clusterId, createPrivateKey({ key: privatePkcs8Pem, format: 'pem' }));
}

export function importEncryptionKey(clusterId: string, raw: Uint8Array): EncryptionKey {
  return encryptionKey(clusterId, raw);
}

export function exportSigningPrivatePem(key: SigningKey): string {
  return key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

export interface PublicSigningJwk extends JsonWebKey {
  kty: 'RSA';
  n: string;
  e: string;
  kid: string;
  alg: 'RS256';
  use: 'sig';
}

export interface EncryptionJwk {
  kty: 'oct';
  k: string;
  kid: string;
  alg: 'dir';
  use: 'enc';
}

/** The public half, for the JWKS endpoint and resource servers. */
export function exportPublicJwk(key: VerificationKey): PublicSigningJwk {
  const { n, e } = key.publicKey.export({ format: 'jwk' });
  return { kty: 'RSA', n: n as string, e: e as string, kid: key.kid, alg: 'RS256', use: 'sig' };
}

/** Secret material: only ever sent to an authenticated key reader over TLS (DESIGN §5). */
export function exportEncryptionJwk(key: EncryptionKey): EncryptionJwk {
  return { kty: 'oct', k: key.secret.export().toString('base64url'), kid: key.kid, alg: 'dir', use: 'enc' };
}

/** The inverse of `exportPublicJwk`, for a resource server. The kid must be the key's own hash. */
export function importPublicJwk(jwk: PublicSigningJwk): VerificationKey {
  if (jwk?.kty !== 'RSA' || (jwk.alg ?? 'RS256') !== 'RS256' || (jwk.use ?? 'sig') !== 'sig' || typeof jwk.kid !== 'string') {
    throw new TypeError('expected an RSA public JWK with a kid, for RS256 signatures');
  }
  const publicKey = createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' });
  assertRsa(publicKey);
  if (jwk.kid !== kidFor(clusterOf(jwk.kid), publicKey)) throw new TypeError(`the kid ${jwk.kid} is not the hash of this key`);
  return { kid: jwk.kid, publicKey };
}

/** The inverse of `exportEncryptionJwk`. */
export function importEncryptionJwk(jwk: EncryptionJwk): EncryptionKey {
  if (jwk?.kty !== 'oct' || (jwk.alg ?? 'dir') !== 'dir' || (jwk.use ?? 'enc') !== 'enc' || typeof jwk.kid !== 'string' || typeof jwk.k !== 'string') {
    throw new TypeError('expected an oct JWK with a kid, for dir encryption');
  }
  const key = encryptionKey(clusterOf(jwk.kid), Buffer.from(jwk.k, 'base64url'));
  if (key.kid !== jwk.kid) throw new TypeError(`the kid ${jwk.kid} is not the hash of this key`);
  return key;
}
