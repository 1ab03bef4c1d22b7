import { constants, createDecipheriv, createHmac, createPublicKey, createSecretKey, timingSafeEqual, verify, type Decipher, type KeyObject } from 'node:crypto';
import { createHash } from 'node:crypto';

/**
 * The cryptography of authz access tokens on node:crypto (the same code as the server's
 * libs/tokens, copied so that this package stands alone):
 * - RS256 verified on the libuv thread pool, so one event loop keeps every core busy;
 * - A128CBC-HS256 (RFC 7518 §5.2.2) opened with the key split once, the MAC checked first.
 */

const PKCS1 = constants.RSA_PKCS1_PADDING;
const RSA_BITS = 2048;

export function verifyRs256(signingInput: string, signature: Buffer, publicKey: KeyObject, inline: boolean): Promise<boolean> | boolean {
  const data = Buffer.from(signingInput, 'latin1');
  const key = { key: publicKey, padding: PKCS1 };
  if (inline) return verify('sha256', data, key, signature);
  return new Promise((resolve, reject) => {
    verify('sha256', data, key, signature, (error, valid) => (error ? reject(error) : resolve(valid)));
  });
}

export interface VerificationKey {
  readonly kid: string;
  readonly publicKey: KeyObject;
  readonly modulusBits: number;
}

export interface DecryptionKey {
  readonly kid: string;
  readonly mac: KeyObject;
  readonly aes: KeyObject;
  /** AES-128 in ECB mode without padding, made once: the CBC chaining is done by hand. */
  readonly blocks: Decipher;
}

const sha256Hex = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** The cluster part of a kid `<clusterId>:<sha256 hex>` ('' if none). */
export function clusterOf(kid: string): string {
  const colon = kid.lastIndexOf(':');
  return colon > 0 ? kid.slice(0, colon) : '';
}

/** An RSA public JWK (RS256, sig) whose kid is `<cluster>:<sha256 of its SPKI DER>`. Throws a TypeError otherwise. */
export function importSigningJwk(jwk: any): VerificationKey {
  if (jwk?.kty !== 'RSA' || (jwk.alg ?? 'RS256') !== 'RS256' || (jwk.use ?? 'sig') !== 'sig' || typeof jwk.kid !== 'string') {
    throw new TypeError('expected an RSA public JWK with a kid, for RS256 signatures');
  }
  const publicKey = createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' });
  const modulusBits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (publicKey.asymmetricKeyType !== 'rsa' || modulusBits < RSA_BITS) throw new TypeError(`the signing key must be RSA of at least ${RSA_BITS} bits`);
  const kid = `${clusterOf(jwk.kid)}:${sha256Hex(publicKey.export({ type: 'spki', format: 'der' }))}`;
  if (!clusterOf(jwk.kid) || kid !== jwk.kid) throw new TypeError(`the kid ${jwk.kid} is not the hash of this key`);
  return { kid: jwk.kid, publicKey, modulusBits };
}

/** An oct JWK (dir, enc) of 32 bytes whose kid is `<cluster>:<sha256 of the bytes>`. */
export function importEncryptionJwk(jwk: any): DecryptionKey {
  if (jwk?.kty !== 'oct' || (jwk.alg ?? 'dir') !== 'dir' || (jwk.use ?? 'enc') !== 'enc' || typeof jwk.kid !== 'string' || typeof jwk.k !== 'string') {
    throw new TypeError('expected an oct JWK with a kid, for dir encryption');
  }
  const raw = Buffer.from(jwk.k, 'base64url');
  if (raw.length !== 32) throw new TypeError('the encryption key must be 32 bytes');
  if (!clusterOf(jwk.kid) || jwk.kid !== `${clusterOf(jwk.kid)}:${sha256Hex(raw)}`) throw new TypeError(`the kid ${jwk.kid} is not the hash of this key`);
  const aes = createSecretKey(raw.subarray(16));
  return { kid: jwk.kid, mac: createSecretKey(raw.subarray(0, 16)), aes, blocks: createDecipheriv('aes-128-ecb', aes, null).setAutoPadding(false) };
}

export interface Aad {
  readonly bytes: Buffer;
  readonly bits: Buffer;
}

export function aadOf(encodedHeader: string): Aad {
  const bytes = Buffer.from(encodedHeader, 'latin1');
  const bits = Buffer.alloc(8);
  bits.writeUInt32BE(bytes.length * 8, 4);
  return { bytes, bits };
}

const BLOCK = 16;
const TAG_BYTES = 16;

/** The plaintext, or undefined when anything does not check out. */
export function decrypt(key: DecryptionKey, aad: Aad, iv: Buffer, ciphertext: Buffer, tag: Buffer): Buffer | undefined {
  if (iv.length !== BLOCK || tag.length !== TAG_BYTES || ciphertext.length === 0 || ciphertext.length % BLOCK !== 0) return undefined;
  const expected = createHmac('sha256', key.mac).update(aad.bytes).update(iv).update(ciphertext).update(aad.bits).digest().subarray(0, TAG_BYTES);
  if (!timingSafeEqual(expected, tag)) return undefined;
  const plain = key.blocks.update(ciphertext);
  if (plain.length !== ciphertext.length) return undefined;
  for (let i = plain.length - 1; i >= BLOCK; i--) plain[i] ^= ciphertext[i - BLOCK];
  for (let i = 0; i < BLOCK; i++) plain[i] ^= iv[i];
  const pad = plain[plain.length - 1];
  if (pad < 1 || pad > BLOCK) return undefined;
  for (let i = plain.length - pad; i < plain.length; i++) if (plain[i] !== pad) return undefined;
  return plain.subarray(0, plain.length - pad);
}
