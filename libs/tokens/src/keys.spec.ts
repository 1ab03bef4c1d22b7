import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  createKeyRing,
  exportEncryptionJwk,
  exportPublicJwk,
  exportSigningPrivatePem,
  fingerprint,
  generateEncryptionKey,
  generateSigningKey,
  importEncryptionJwk,
  importEncryptionKey,
  importPublicJwk,
  importSigningKey,
  type SigningKey,
} from './index';

const CLUSTER = '8d0d5324-f4f0-4b0b-811e-4a59fdb6b722';
const KID = new RegExp(`^${CLUSTER}:[0-9a-f]{64}$`);
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

let signing: SigningKey;
beforeAll(async () => {
  signing = await generateSigningKey(CLUSTER);
});

describe('signing keys', () => {
  it('are RSA-2048, named <cluster>:<sha256 of the SPKI DER>', () => {
    expect(signing.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(signing.kid).toMatch(KID);
    expect(signing.kid).toBe(`${CLUSTER}:${sha256(signing.publicKey.export({ type: 'spki', format: 'der' }))}`);
    expect(fingerprint(signing.privateKey)).toBe(fingerprint(signing.publicKey));
  });

  it('survive a PKCS#8 PEM round trip with the same kid', () => {
    const pem = exportSigningPrivatePem(signing);
    expect(pem).toContain('-----BEGIN PRIVATE KEY-----');
    const imported = importSigningKey(CLUSTER, pem);
    expect(imported.kid).toBe(signing.kid);
    expect(imported.publicKey.equals(signing.publicKey)).toBe(true);
  });

  it('refuses keys that are not RSA-2048 or not PKCS#8', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const pkcs1 = signing.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    expect(() => importSigningKey(CLUSTER, small)).toThrow('at least 2048 bits');
    expect(() => importSigningKey(CLUSTER, ec)).toThrow('RSA');
    expect(() => importSigningKey(CLUSTER, pkcs1)).toThrow('PKCS#8');
    expect(() => importSigningKey('', exportSigningPrivatePem(signing))).toThrow('clusterId');
  });

  it('export a public JWK of exactly kty, n, e, kid, alg RS256, use sig, and import it back', () => {
    const jwk = exportPublicJwk(signing);
    expect(Object.keys(jwk).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(jwk).toMatchObject({ kty: 'RSA', e: 'AQAB', kid: signing.kid, alg: 'RS256', use: 'sig' });
    const imported = importPublicJwk(jwk);
    expect(imported.kid).toBe(signing.kid);
    expect(imported.publicKey.equals(signing.publicKey)).toBe(true);
  });

  it('refuse a public JWK whose kid is not the hash of the key', () => {
    const jwk = exportPublicJwk(signing);
    expect(() => importPublicJwk({ ...jwk, kid: `${CLUSTER}:${'0'.repeat(64)}` })).toThrow('not the hash');
    expect(() => importPublicJwk({ ...jwk, alg: 'HS256' as 'RS256' })).toThrow('RS256');
  });
});

describe('encryption keys', () => {
  it('are 32 random bytes, named <cluster>:<sha256 of the bytes>', () => {
    const raw = randomBytes(32);
    const key = importEncryptionKey(CLUSTER, raw);
    expect(key.kid).toBe(`${CLUSTER}:${sha256(raw)}`);
    expect(key.secret.symmetricKeySize).toBe(32);
    expect(fingerprint(key.secret)).toBe(sha256(raw));
    expect(generateEncryptionKey(CLUSTER).kid).not.toBe(generateEncryptionKey(CLUSTER).kid);
  });

  it('refuse any other length', () => {
    expect(() => importEncryptionKey(CLUSTER, randomBytes(16))).toThrow('32 bytes');
    expect(() => importEncryptionKey(CLUSTER, randomBytes(64))).toThrow('32 bytes');
  });

  it('export a JWK of exactly kty oct, k, kid, alg dir, use enc, and import it back', () => {
    const key = generateEncryptionKey(CLUSTER);
    const jwk = exportEncryptionJwk(key);
    expect(Object.keys(jwk).sort()).toEqual(['alg', 'k', 'kid', 'kty', 'use']);
    expect(jwk).toMatchObject({ kty: 'oct', kid: key.kid, alg: 'dir', use: 'enc' });
    expect(Buffer.from(jwk.k, 'base64url')).toHaveLength(32);
    expect(importEncryptionJwk(jwk).secret.equals(key.secret)).toBe(true);
    expect(() => importEncryptionJwk({ ...jwk, k: randomBytes(32).toString('base64url') })).toThrow('not the hash');
  });
});

describe('key ring', () => {
  it('finds the current keys by kid and nothing else', () => {
    const encryption = generateEncryptionKey(CLUSTER);
    const ring = createKeyRing([signing, undefined], [encryption]);
    expect(ring.verificationKey(signing.kid)).toBe(signing);
    expect(ring.encryptionKey(encryption.kid)).toBe(encryption);
    expect(ring.verificationKey(encryption.kid)).toBeUndefined();
    expect(ring.encryptionKey(signing.kid)).toBeUndefined();
  });
});
