import { sign, randomBytes } from 'node:crypto';
import { CompactEncrypt, CompactSign } from 'jose';
import {
  createKeyRing,
  generateEncryptionKey,
  generateSigningKey,
  mintAccessToken,
  mintRefreshToken,
  validateAccessToken,
  validateRefreshToken,
  type EncryptionKey,
  type KeyRing,
  type SigningKey,
  type TokenErrorCode,
  type ValidationOptions,
  type ValidationResult,
} from './index';

const CLUSTER = 'c1';
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const json = (segment: string) => JSON.parse(Buffer.from(segment, 'base64url').toString());

/** Flips one bit of the decoded bytes and spells the result canonically again. */
function flip(segment: string, byte = 0, bit = 0): string {
  const bytes = Buffer.from(segment, 'base64url');
  bytes[byte] ^= 1 << bit;
  return bytes.toString('base64url');
}

/** A compact RS256 JWS over whatever header and payload segments, as an attacker holding `key` would make. */
function rs256(header: string, payload: string, key: SigningKey): string {
  return `${header}.${payload}.${sign('sha256', Buffer.from(`${header}.${payload}`), key.privateKey).toString('base64url')}`;
}

let signing: SigningKey;
let otherSigning: SigningKey;
let encryption: EncryptionKey;
let otherEncryption: EncryptionKey;
let ring: KeyRing;
let access: string;
let refresh: string;
const now = new Date('2026-01-01T00:00:00Z');
const options: ValidationOptions = { issuer: CLUSTER, now };

beforeAll(async () => {
  [signing, otherSigning] = await Promise.all([generateSigningKey(CLUSTER), generateSigningKey(CLUSTER)]);
  encryption = generateEncryptionKey(CLUSTER);
  otherEncryption = generateEncryptionKey(CLUSTER);
  ring = createKeyRing([signing], [encryption]);
  access = (await mintAccessToken({ signing, encryption }, { sub: 'alice', client_id: 'c', scope: 'openid' }, 3600, now)).token;
  refresh = (await mintRefreshToken({ signing }, { clientId: 'c' }, 86400, now)).token;
});

type Validate = (token: string, keyRing: KeyRing, options: ValidationOptions) => Promise<ValidationResult<unknown>>;

async function expectRejected(token: string, code: TokenErrorCode, validate: Validate = validateAccessToken, ringInUse = ring) {
  const result = await validate(token, ringInUse, options);
  expect(result).toEqual({ valid: false, code, reason: expect.any(String) });
}

/** Rebuilds the access token with its JWE changed, signed again with the CURRENT key: only the inner layer is at fault. */
function withJwe(change: (parts: string[]) => string[]): string {
  const [header, payload] = access.split('.');
  const parts: string[] = json(payload).private.split('.');
  return rs256(header, b64({ private: change([...parts]).join('.') }), signing);
}

describe('the outer signature', () => {
  it('is valid to begin with', async () => {
    expect((await validateAccessToken(access, ring, options)).valid).toBe(true);
    expect((await validateRefreshToken(refresh, ring, options)).valid).toBe(true);
  });

  it('refuses alg "none" (bad_signature)', async () => {
    const [, payload] = access.split('.');
    await expectRejected(`${b64({ alg: 'none', typ: 'JWT', kid: signing.kid })}.${payload}.`, 'bad_signature');
    await expectRejected(`${b64({ alg: 'none', typ: 'JWT', kid: signing.kid })}.${refresh.split('.')[1]}.`, 'bad_signature', validateRefreshToken);
  });

  it('refuses HS256 made with the public key bytes as the HMAC secret (bad_signature)', async () => {
    const payload = Buffer.from(access.split('.')[1], 'base64url');
    for (const secret of [
      signing.publicKey.export({ type: 'spki', format: 'pem' }) as string,
      signing.publicKey.export({ type: 'spki', format: 'der' }),
    ]) {
      const forged = await new CompactSign(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: signing.kid }).sign(Buffer.from(secret));
      await expectRejected(forged, 'bad_signature');
    }
  });

  it('refuses a token signed with another key that claims the current kid (bad_signature)', async () => {
    const [header, payload] = access.split('.');
    await expectRejected(rs256(header, payload, otherSigning), 'bad_signature');
  });

  it('refuses a token whose kid names a key that is not current (unknown_key)', async () => {
    const { token } = await mintAccessToken({ signing: otherSigning, encryption }, { sub: 'alice', client_id: 'c', scope: 'openid' }, 3600, now);
    await expectRejected(token, 'unknown_key');
    const refreshOfOldKey = (await mintRefreshToken({ signing: otherSigning }, { clientId: 'c' }, 60, now)).token;
    await expectRejected(refreshOfOldKey, 'unknown_key', validateRefreshToken);
    // After a regeneration the ring holds only the new key: the old tokens die with it (seed S7).
    await expectRejected(access, 'unknown_key', validateAccessToken, createKeyRing([otherSigning], [encryption]));
  });

  it('refuses a flipped bit in the signature, the header or the payload (bad_signature)', async () => {
    const [header, payload, signature] = access.split('.');
    for (const at of [0, 100, 255]) await expectRejected(`${header}.${payload}.${flip(signature, at, 3)}`, 'bad_signature');
    await expectRejected(`${header}.${flip(payload, 40)}.${signature}`, 'bad_signature');
    const [rh, rp, rs] = refresh.split('.');
    await expectRejected(`${rh}.${rp}.${flip(rs, 7)}`, 'bad_signature', validateRefreshToken);
    await expectRejected(`${rh}.${flip(rp, 3)}.${rs}`, 'bad_signature', validateRefreshToken);
    // A header that still parses and names the same key, but is not the one signed.
    await expectRejected(`${b64(`{"alg":"RS256","typ":"JWT","kid":"${signing.kid}" }`)}.${payload}.${signature}`, 'bad_signature');
  });

  it('refuses a re-spelled signature that decodes to the same bytes (malformed)', async () => {
    const [header, payload, signature] = access.split('.');
    // 256 bytes spell as 342 characters whose last one carries 4 unused bits.
    const last = signature.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelled = signature.slice(0, -1) + alphabet[alphabet.indexOf(last) | 1];
    expect(Buffer.from(respelled, 'base64url').equals(Buffer.from(signature, 'base64url'))).toBe(true);
    await expectRejected(`${header}.${payload}.${respelled}`, 'malformed');
  });
});

describe('the shape of the input', () => {
  it('refuses a truncated token wherever it is cut (malformed)', async () => {
    for (const length of [0, 1, 20, 200, access.indexOf('.') + 1, access.lastIndexOf('.'), access.lastIndexOf('.') + 1, access.length - 1, access.length - 4, access.length - 10]) {
      await expectRejected(access.slice(0, length), 'malformed');
    }
  });

  it('refuses 1 MB of garbage before reading it (too_large)', async () => {
    await expectRejected(randomBytes(1024 * 1024).toString('latin1'), 'too_large');
    await expectRejected('a.'.repeat(512 * 1024), 'too_large');
    await expectRejected(access + 'A'.repeat(16 * 1024), 'too_large');
    await expectRejected('x'.repeat(16 * 1024 + 1), 'too_large', validateRefreshToken);
  });

  it('refuses what is not a token at all (malformed)', async () => {
    for (const input of ['', '.', '..', '....', 'a.b.c', `${access}.x`, access.replace(/\./g, ' '), '{}.{}.{}']) await expectRejected(input, 'malformed');
    for (const input of [undefined, null, 42, {}, ['a', 'b', 'c']]) await expectRejected(input as unknown as string, 'malformed');
  });

  it('refuses a header with anything beyond alg, typ and kid, e.g. crit or jku (malformed)', async () => {
    const payload = access.split('.')[1];
    for (const extra of [{ crit: ['exp'] }, { jku: 'https://evil.example/jwks' }, { b64: false }]) {
      await expectRejected(rs256(b64({ alg: 'RS256', typ: 'JWT', kid: signing.kid, ...extra }), payload, signing), 'malformed');
    }
    await expectRejected(rs256(b64({ alg: 'RS256', typ: 'JOSE', kid: signing.kid }), payload, signing), 'malformed');
    await expectRejected(rs256(b64({ alg: 'RS256', typ: 'JWT', kid: 42 }), payload, signing), 'malformed');
  });

  it('keeps working after a flood of header spellings (the header memo is bounded)', async () => {
    const payload = access.split('.')[1];
    for (let i = 1; i <= 200; i++) {
      const spelled = b64(`{"alg":"RS256","typ":"JWT",${' '.repeat(i)}"kid":"${signing.kid}"}`);
      await expectRejected(`${spelled}.${payload}.${access.split('.')[2]}`, 'bad_signature');
    }
    expect((await validateAccessToken(access, ring, options)).valid).toBe(true);
  });

  it('never lets an exception out, e.g. from a broken key ring', async () => {
    const broken: KeyRing = {
      verificationKey: () => {
        throw new Error('boom');
      },
      encryptionKey: () => {
        throw new Error('boom');
      },
    };
    await expectRejected(access, 'malformed', validateAccessToken, broken);
    await expectRejected(refresh, 'malformed', validateRefreshToken, broken);
    const halfBroken: KeyRing = { ...broken, verificationKey: (kid) => ring.verificationKey(kid) };
    await expectRejected(access, 'bad_encryption', validateAccessToken, halfBroken);
    const notRsa: KeyRing = { ...ring, verificationKey: () => ({ kid: signing.kid, publicKey: encryption.secret }) };
    expect((await validateAccessToken(access, notRsa, options)).valid).toBe(false);
  });
});

describe('the inner JWE (outer layer signed again, so only the JWE is at fault)', () => {
  it('is valid when left alone', async () => {
    expect((await validateAccessToken(withJwe((parts) => parts), ring, options)).valid).toBe(true);
  });

  it('refuses a flipped bit in the JWE header (bad_encryption)', async () => {
    for (const at of [0, 10, 30]) await expectRejected(withJwe(([h, ...rest]) => [flip(h, at), ...rest]), 'bad_encryption');
  });

  it('refuses the same header spelled differently: it is the AAD of the tag (bad_encryption)', async () => {
    const respelled = b64(`{"kid":"${encryption.kid}","enc":"A128CBC-HS256","cty":"JWT","alg":"dir"}`);
    await expectRejected(withJwe(([, ...rest]) => [respelled, ...rest]), 'bad_encryption');
  });

  it('refuses an encrypted key, which dir leaves empty (bad_encryption)', async () => {
    await expectRejected(withJwe(([h, , ...rest]) => [h, 'AA', ...rest]), 'bad_encryption');
    await expectRejected(withJwe(([h, , ...rest]) => [h, b64(randomBytes(32)), ...rest]), 'bad_encryption');
  });

  it('refuses a flipped bit in the IV, the ciphertext or the tag (bad_encryption)', async () => {
    for (const part of [2, 3, 4]) {
      for (const at of [0, 15]) {
        await expectRejected(
          withJwe((parts) => parts.map((p, i) => (i === part ? flip(p, at, 5) : p))),
          'bad_encryption',
        );
      }
    }
  });

  it('refuses a JWE whose parts are missing, cut or of the wrong length (bad_encryption)', async () => {
    await expectRejected(withJwe((parts) => parts.slice(0, 4)), 'bad_encryption');
    await expectRejected(withJwe(([h, k, iv, c, t]) => [h, k, iv, c, t.slice(0, 10)]), 'bad_encryption');
    await expectRejected(withJwe(([h, k, iv, c, t]) => [h, k, iv, c.slice(0, -22), t]), 'bad_encryption');
    await expectRejected(withJwe(([h, k, , c, t]) => [h, k, b64(randomBytes(12)), c, t]), 'bad_encryption');
  });

  it('refuses another algorithm in the inner header (bad_encryption)', async () => {
    for (const header of [
      { alg: 'dir', cty: 'JWT', enc: 'A256GCM', kid: encryption.kid },
      { alg: 'A128KW', cty: 'JWT', enc: 'A128CBC-HS256', kid: encryption.kid },
      { alg: 'dir', cty: 'JWT', enc: 'A128CBC-HS256', kid: encryption.kid, zip: 'DEF' },
    ]) {
      await expectRejected(withJwe(([, ...rest]) => [b64(header), ...rest]), 'bad_encryption');
    }
  });

  it('refuses a JWE made with another encryption key: unknown_key under its own kid, bad_encryption under the current one', async () => {
    const claims = { iss: CLUSTER, sub: 'alice', client_id: 'c', scope: 'openid', iat: 1767225600, exp: 1767229200, jti: 'j', token_type: 'access' };
    const otherRaw = new Uint8Array(otherEncryption.secret.export());
    for (const [kid, code] of [
      [otherEncryption.kid, 'unknown_key'],
      [encryption.kid, 'bad_encryption'],
    ] as const) {
      const jwe = await new CompactEncrypt(Buffer.from(JSON.stringify(claims))).setProtectedHeader({ alg: 'dir', cty: 'JWT', enc: 'A128CBC-HS256', kid }).encrypt(otherRaw);
      await expectRejected(withJwe(() => jwe.split('.')), code);
    }
  });
});

describe('the claims', () => {
  const at = (seconds: number): ValidationOptions => ({ issuer: CLUSTER, now: new Date(now.getTime() + seconds * 1000) });

  it('refuses an expired token beyond the 30 s skew, and takes one just inside it', async () => {
    expect((await validateAccessToken(access, ring, at(3600 + 29))).valid).toBe(true);
    expect((await validateAccessToken(access, ring, at(3600 + 30))).valid).toBe(true);
    expect(await validateAccessToken(access, ring, at(3600 + 31))).toMatchObject({ valid: false, code: 'expired' });
    expect(await validateRefreshToken(refresh, ring, at(86400 + 31))).toMatchObject({ valid: false, code: 'expired' });
    expect((await validateRefreshToken(refresh, ring, at(86400 + 20))).valid).toBe(true);
  });

  it('takes another skew when configured', async () => {
    expect(await validateAccessToken(access, ring, { ...at(3601), clockSkewSeconds: 0 })).toMatchObject({ code: 'expired' });
    expect((await validateAccessToken(access, ring, { ...at(3600 + 119), clockSkewSeconds: 120 })).valid).toBe(true);
  });

  it('refuses a token of another issuer (wrong_issuer)', async () => {
    await expectRejected(access, 'wrong_issuer', (t, r) => validateAccessToken(t, r, { ...options, issuer: 'c2' }));
    await expectRejected(refresh, 'wrong_issuer', (t, r) => validateRefreshToken(t, r, { ...options, issuer: ['c2', 'c3'] }));
  });

  it('refuses a refresh token presented as an access token and vice versa (wrong_type)', async () => {
    await expectRejected(refresh, 'wrong_type', validateAccessToken);
    await expectRejected(access, 'wrong_type', validateRefreshToken);
  });

  it('refuses an inner claims set that is not an access token (wrong_type)', async () => {
    const claims = { iss: CLUSTER, sub: 'alice', client_id: 'c', scope: 'openid', iat: 1767225600, exp: 1767229200, jti: 'j', token_type: 'refresh' };
    const jwe = await new CompactEncrypt(Buffer.from(JSON.stringify(claims)))
      .setProtectedHeader({ alg: 'dir', cty: 'JWT', enc: 'A128CBC-HS256', kid: encryption.kid })
      .encrypt(new Uint8Array(encryption.secret.export()));
    await expectRejected(withJwe(() => jwe.split('.')), 'wrong_type');
  });
});
