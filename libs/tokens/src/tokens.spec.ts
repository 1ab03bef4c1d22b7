import { createHash } from 'node:crypto';
import { compactDecrypt, CompactEncrypt, CompactSign, compactVerify, decodeProtectedHeader } from 'jose';
import {
  createKeyRing,
  generateEncryptionKey,
  generateSigningKey,
  hashToken,
  mintAccessToken,
  mintRefreshToken,
  validateAccessToken,
  validateRefreshToken,
  type EncryptionKey,
  type KeyRing,
  type SigningKey,
} from './index';

const CLUSTER = '8d0d5324-f4f0-4b0b-811e-4a59fdb6b722';
const decode = (segment: string) => JSON.parse(Buffer.from(segment, 'base64url').toString());
const raw = (key: EncryptionKey) => new Uint8Array(key.secret.export());

let signing: SigningKey;
let encryption: EncryptionKey;
let ring: KeyRing;
const options = { issuer: CLUSTER };

beforeAll(async () => {
  signing = await generateSigningKey(CLUSTER);
  encryption = generateEncryptionKey(CLUSTER);
  ring = createKeyRing([signing], [encryption]);
});

describe('access token', () => {
  it('round-trips its claims, extra claims included', async () => {
    const now = new Date();
    const { token, claims } = await mintAccessToken({ signing, encryption }, { sub: 'alice', client_id: 'C3b0', scope: ['openid', 'voicemail'], amr: ['pwd'] }, 3600, now);
    const iat = Math.floor(now.getTime() / 1000);
    expect(claims).toEqual({
      iss: CLUSTER,
      sub: 'alice',
      client_id: 'C3b0',
      scope: 'openid voicemail',
      iat,
      exp: iat + 3600,
      jti: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      token_type: 'access',
      amr: ['pwd'],
    });
    expect(await validateAccessToken(token, ring, options)).toEqual({ valid: true, claims });
  });

  it('has exactly the headers and payload of DESIGN §3 on both layers', async () => {
    const { token, claims } = await mintAccessToken({ signing, encryption }, { sub: 'alice', client_id: 'C3b0', scope: 'openid' }, 60);
    const [header, payload, signature] = token.split('.');
    expect(Object.keys(decode(header))).toEqual(['alg', 'typ', 'kid']);
    expect(decode(header)).toEqual({ alg: 'RS256', typ: 'JWT', kid: signing.kid });
    expect(Object.keys(decode(payload))).toEqual(['private']);
    expect(Buffer.from(signature, 'base64url')).toHaveLength(256);

    const jwe: string = decode(payload).private;
    const parts = jwe.split('.');
    expect(parts).toHaveLength(5);
    expect(Object.keys(decode(parts[0]))).toEqual(['alg', 'cty', 'enc', 'kid']);
    expect(decode(parts[0])).toEqual({ alg: 'dir', cty: 'JWT', enc: 'A128CBC-HS256', kid: encryption.kid });
    expect(parts[1]).toBe('');
    expect(Buffer.from(parts[2], 'base64url')).toHaveLength(16);
    expect(Buffer.from(parts[4], 'base64url')).toHaveLength(16);
    const { plaintext } = await compactDecrypt(jwe, raw(encryption));
    expect(Object.keys(JSON.parse(Buffer.from(plaintext).toString()))).toEqual(['iss', 'sub', 'client_id', 'scope', 'iat', 'exp', 'jti', 'token_type']);
    expect(JSON.parse(Buffer.from(plaintext).toString())).toEqual(claims);
  });

  it('is read by jose as the reference, both layers with the algorithms pinned', async () => {
    const { token, claims } = await mintAccessToken({ signing, encryption }, { sub: 'bob', client_id: 'c', scope: 'a b' }, 60);
    const outer = await compactVerify(token, signing.publicKey, { algorithms: ['RS256'] });
    const inner = await compactDecrypt(JSON.parse(Buffer.from(outer.payload).toString()).private, raw(encryption), {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A128CBC-HS256'],
    });
    expect(JSON.parse(Buffer.from(inner.plaintext).toString())).toEqual(claims);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', typ: 'JWT', kid: signing.kid });
  });

  it('validates a token built by jose alone (so the node:crypto decryption agrees with jose)', async () => {
    for (const length of [0, 1, 15, 16, 17, 300]) {
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: CLUSTER, sub: 'x'.repeat(length + 1), client_id: 'c', scope: 's', iat: now, exp: now + 60, jti: 'j', token_type: 'access' };
      const jwe = await new CompactEncrypt(Buffer.from(JSON.stringify(claims)))
        .setProtectedHeader({ alg: 'dir', cty: 'JWT', enc: 'A128CBC-HS256', kid: encryption.kid })
        .encrypt(raw(encryption));
      const token = await new CompactSign(Buffer.from(JSON.stringify({ private: jwe })))
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: signing.kid })
        .sign(signing.privateKey);
      expect(await validateAccessToken(token, ring, options)).toEqual({ valid: true, claims });
    }
  });

  it('refuses to let the caller set the claims it owns, or mint from keys of two clusters', async () => {
    const keys = { signing, encryption };
    await expect(mintAccessToken(keys, { sub: 'a', client_id: 'c', scope: 's', exp: 1 }, 60)).rejects.toThrow('the exp claim is set by mintAccessToken');
    await expect(mintAccessToken(keys, { sub: '', client_id: 'c', scope: 's' }, 60)).rejects.toThrow('sub');
    await expect(mintAccessToken(keys, { sub: 'a', client_id: 'c', scope: 's' }, 0)).rejects.toThrow('lifetimeSeconds');
    await expect(mintAccessToken(keys, { sub: 'a', client_id: 'c', scope: ['a b'] }, 60)).rejects.toThrow('scope');
    await expect(mintAccessToken({ signing, encryption: generateEncryptionKey('other') }, { sub: 'a', client_id: 'c', scope: 's' }, 60)).rejects.toThrow('one cluster');
  });

  it('gives the same answers with the RSA check inline (verifyInline)', async () => {
    const { token, claims } = await mintAccessToken({ signing, encryption }, { sub: 'a', client_id: 'c', scope: 's' }, 60);
    const inline = { ...options, verifyInline: true };
    expect(await validateAccessToken(token, ring, inline)).toEqual({ valid: true, claims });
    const [header, payload, signature] = token.split('.');
    const forged = `${header}.${payload}.${Buffer.from(signature, 'base64url').reverse().toString('base64url')}`;
    expect(await validateAccessToken(forged, ring, inline)).toMatchObject({ valid: false, code: 'bad_signature' });
    const refresh = await mintRefreshToken({ signing }, { clientId: 'c' }, 60);
    expect((await validateRefreshToken(refresh.token, ring, inline)).valid).toBe(true);
  });

  it('accepts a list of issuers, e.g. on a resource server trusting two clusters', async () => {
    const { token } = await mintAccessToken({ signing, encryption }, { sub: 'a', client_id: 'c', scope: 's' }, 60);
    expect((await validateAccessToken(token, ring, { issuer: ['other', CLUSTER] })).valid).toBe(true);
  });
});

describe('refresh token', () => {
  it('round-trips the claims of the seed sample, and its hash is the SHA-256 hex of the token', async () => {
    const minted = await mintRefreshToken({ signing }, { clientId: 'C3b0' }, 60 * 86400);
    expect(minted.hash).toBe(createHash('sha256').update(minted.token).digest('hex'));
    expect(hashToken(minted.token)).toBe(minted.hash);
    const result = await validateRefreshToken(minted.token, ring, options);
    expect(result).toEqual({ valid: true, claims: { exp: minted.exp, iss: CLUSTER, typ: 'user', tid: minted.tid, ctyp: 'refresh', ccid: 'C3b0' } });
  });

  it('has exactly the header and payload of the seed, in its order', async () => {
    const tid = 'b991221f-f42e-4e52-8871-c876e635dd5b';
    const { token, exp } = await mintRefreshToken({ signing }, { clientId: 'C3b0', tid }, 3600);
    const [header, payload] = token.split('.');
    expect(Object.keys(decode(header))).toEqual(['alg', 'typ', 'kid']);
    expect(decode(header)).toEqual({ alg: 'RS256', typ: 'JWT', kid: signing.kid });
    expect(Object.keys(decode(payload))).toEqual(['exp', 'iss', 'typ', 'tid', 'ctyp', 'ccid']);
    expect(decode(payload)).toEqual({ exp, iss: CLUSTER, typ: 'user', tid, ctyp: 'refresh', ccid: 'C3b0' });
    await expect(compactVerify(token, signing.publicKey, { algorithms: ['RS256'] })).resolves.toBeDefined();
  });

  it('gives two logins of one client two different tokens (seed S13)', async () => {
    const a = await mintRefreshToken({ signing }, { clientId: 'c' }, 60);
    const b = await mintRefreshToken({ signing }, { clientId: 'c' }, 60);
    expect(a.tid).not.toBe(b.tid);
    expect(a.hash).not.toBe(b.hash);
  });
});
