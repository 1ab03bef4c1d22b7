import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { CompactEncrypt, compactDecrypt } from 'jose';
import { aadOf, decrypt, encrypt } from './a128cbc-hs256';
import { generateEncryptionKey } from './keys';

const key = generateEncryptionKey('c1');
const raw = key.secret.export();
const split = (jwe: string) => jwe.split('.');

/** A JWE whose padding we choose, with a correct tag: what only a holder of the key could make. */
function sealed(plaintext: Buffer) {
  const encodedHeader = Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A128CBC-HS256' })).toString('base64url');
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-cbc', raw.subarray(16), iv).setAutoPadding(false);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const aad = aadOf(encodedHeader);
  const tag = createHmac('sha256', raw.subarray(0, 16)).update(aad.bytes).update(iv).update(ciphertext).update(aad.bits).digest().subarray(0, 16);
  return { aad, iv, ciphertext, tag };
}

describe('A128CBC-HS256 decryption', () => {
  it('reads what jose encrypts, for every padding length and a few sizes', async () => {
    for (const length of [...Array(40).keys(), 255, 256, 1000, 4096]) {
      const plaintext = randomBytes(length);
      const jwe = await new CompactEncrypt(plaintext).setProtectedHeader({ alg: 'dir', enc: 'A128CBC-HS256', kid: key.kid }).encrypt(new Uint8Array(raw));
      const [header, , iv, ciphertext, tag] = split(jwe);
      const decrypted = decrypt(key.secret, aadOf(header), Buffer.from(iv, 'base64url'), Buffer.from(ciphertext, 'base64url'), Buffer.from(tag, 'base64url'));
      expect(decrypted?.equals(plaintext)).toBe(true);
      // and jose agrees it is a valid JWE
      expect(Buffer.from((await compactDecrypt(jwe, new Uint8Array(raw))).plaintext).equals(plaintext)).toBe(true);
    }
  });

  it('encrypts what jose reads, for every padding length and a few sizes, under a fresh IV each time', async () => {
    const encodedHeader = Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A128CBC-HS256', kid: key.kid })).toString('base64url');
    const ivs = new Set<string>();
    for (const length of [...Array(40).keys(), 255, 256, 1000, 4096]) {
      const plaintext = randomBytes(length);
      const { iv, ciphertext, tag } = encrypt(key.secret, aadOf(encodedHeader), plaintext);
      ivs.add(iv.toString('hex'));
      expect(ciphertext.length).toBe((Math.floor(length / 16) + 1) * 16);
      const jwe = [encodedHeader, '', iv, ciphertext, tag].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
      expect(Buffer.from((await compactDecrypt(jwe, new Uint8Array(raw))).plaintext).equals(plaintext)).toBe(true);
      expect(decrypt(key.secret, aadOf(encodedHeader), iv, ciphertext, tag)?.equals(plaintext)).toBe(true);
    }
    expect(ivs.size).toBe(44);
  });

  it('refuses bad padding behind a good tag', () => {
    const good = sealed(Buffer.concat([Buffer.from('0123456789abcde'), Buffer.from([1])]));
    expect(decrypt(key.secret, good.aad, good.iv, good.ciphertext, good.tag)?.toString()).toBe('0123456789abcde');
    for (const padding of [[0], [17], [2, 3], [16]]) {
      const block = Buffer.alloc(16, 7);
      Buffer.from(padding).copy(block, 16 - padding.length);
      const { aad, iv, ciphertext, tag } = sealed(block);
      expect(decrypt(key.secret, aad, iv, ciphertext, tag)).toBeUndefined();
    }
  });

  it('refuses a tag, an IV or a ciphertext of the wrong length before any work', () => {
    const { aad, iv, ciphertext, tag } = sealed(Buffer.alloc(32, 16));
    expect(decrypt(key.secret, aad, iv, ciphertext, tag)).toEqual(Buffer.alloc(16, 16));
    expect(decrypt(key.secret, aad, iv, ciphertext, tag.subarray(0, 15))).toBeUndefined();
    expect(decrypt(key.secret, aad, Buffer.concat([iv, iv]), ciphertext, tag)).toBeUndefined();
    expect(decrypt(key.secret, aad, iv, ciphertext.subarray(0, 31), tag)).toBeUndefined();
    expect(decrypt(key.secret, aad, iv, Buffer.alloc(0), tag)).toBeUndefined();
  });
});
