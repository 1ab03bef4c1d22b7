import {
  AccessTokenCache,
  createKeyRing,
  generateEncryptionKey,
  generateSigningKey,
  mintAccessToken,
  mintRefreshToken,
  SignatureCache,
  validateAccessToken,
  validateRefreshToken,
  type AccessTokenClaims,
  type EncryptionKey,
  type KeyRing,
  type SigningKey,
} from './index';

const CLUSTER = 'c1';
const now = new Date('2026-01-01T00:00:00Z');
const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);

let signing: SigningKey;
let other: SigningKey;
let encryption: EncryptionKey;
let ring: KeyRing;
const mint = (lifetime = 60) => mintAccessToken({ signing, encryption }, { sub: 'a', client_id: 'c', scope: 's' }, lifetime, now).then((m) => m.token);

beforeAll(async () => {
  [signing, other] = await Promise.all([generateSigningKey(CLUSTER), generateSigningKey(CLUSTER)]);
  encryption = generateEncryptionKey(CLUSTER);
  ring = createKeyRing([signing], [encryption]);
});

describe('SignatureCache', () => {
  it('keeps a token once it passed every check, and validates it again from there', async () => {
    const cache = new SignatureCache();
    const token = await mint();
    expect((await validateAccessToken(token, ring, { issuer: CLUSTER, now, cache })).valid).toBe(true);
    expect(cache.size).toBe(1);
    expect((await validateAccessToken(token, ring, { issuer: CLUSTER, now, cache })).valid).toBe(true);
    expect(cache.size).toBe(1);
  });

  it('keeps nothing that failed, whatever the check', async () => {
    const cache = new SignatureCache();
    const token = await mint();
    await validateAccessToken(token, ring, { issuer: 'c2', now, cache });
    await validateAccessToken(token, ring, { issuer: CLUSTER, now: later(3600), cache });
    await validateAccessToken(token.slice(0, -2) + 'AA', ring, { issuer: CLUSTER, now, cache });
    expect(cache.size).toBe(0);
  });

  it('still checks expiry, issuer and the inner layer on a hit', async () => {
    const cache = new SignatureCache();
    const token = await mint(60);
    await validateAccessToken(token, ring, { issuer: CLUSTER, now, cache });
    expect(await validateAccessToken(token, ring, { issuer: 'c2', now, cache })).toMatchObject({ code: 'wrong_issuer' });
    const newEncryption = createKeyRing([signing], [generateEncryptionKey(CLUSTER)]);
    expect(await validateAccessToken(token, newEncryption, { issuer: CLUSTER, now, cache })).toMatchObject({ code: 'unknown_key' });
    expect(await validateAccessToken(token, ring, { issuer: CLUSTER, now: later(120), cache })).toMatchObject({ code: 'expired' });
    expect(cache.size).toBe(0);
  });

  it('vouches only for the very key object that verified the token', async () => {
    const cache = new SignatureCache();
    const token = await mint();
    await validateAccessToken(token, ring, { issuer: CLUSTER, now, cache });
    // Same kid, other key: a hit here would accept a signature nobody checked against this key.
    const impostor = createKeyRing([{ kid: signing.kid, publicKey: other.publicKey }], [encryption]);
    expect(await validateAccessToken(token, impostor, { issuer: CLUSTER, now, cache })).toMatchObject({ code: 'bad_signature' });
    const regenerated = createKeyRing([other], [encryption]);
    expect(await validateAccessToken(token, regenerated, { issuer: CLUSTER, now, cache })).toMatchObject({ code: 'unknown_key' });
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const cache = new SignatureCache(2);
    const tokens = await Promise.all([mint(), mint(), mint()]);
    for (const token of tokens) await validateAccessToken(token, ring, { issuer: CLUSTER, now, cache });
    expect(cache.size).toBe(2);
    expect(() => new SignatureCache(0)).toThrow('positive');
  });

  it('serves refresh tokens too', async () => {
    const cache = new SignatureCache();
    const { token } = await mintRefreshToken({ signing }, { clientId: 'c' }, 60, now);
    expect((await validateRefreshToken(token, ring, { issuer: CLUSTER, now, cache })).valid).toBe(true);
    expect((await validateRefreshToken(token, ring, { issuer: CLUSTER, now, cache })).valid).toBe(true);
    expect(cache.size).toBe(1);
  });
});

describe('AccessTokenCache', () => {
  it('answers a token that passed every check with the same claims, frozen', async () => {
    const validated = new AccessTokenCache<AccessTokenClaims>();
    const token = await mint();
    const first = await validateAccessToken(token, ring, { issuer: CLUSTER, now, validated });
    expect(first.valid).toBe(true);
    expect(validated.size).toBe(1);
    const again = await validateAccessToken(token, ring, { issuer: CLUSTER, now, validated });
    expect(again).toEqual(first);
    if (!again.valid) throw new Error('expected a valid token');
    expect(Object.isFrozen(again.claims)).toBe(true);
    expect(() => {
      (again.claims as { scope: string }).scope = 'admin';
    }).toThrow(TypeError);
  });

  it('keeps nothing that failed, whatever the check', async () => {
    const validated = new AccessTokenCache<AccessTokenClaims>();
    const token = await mint();
    await validateAccessToken(token, ring, { issuer: 'c2', now, validated });
    await validateAccessToken(token, ring, { issuer: CLUSTER, now: later(3600), validated });
    await validateAccessToken(token.slice(0, -2) + 'AA', ring, { issuer: CLUSTER, now, validated });
    await validateAccessToken(`${token}x`, ring, { issuer: CLUSTER, now, validated });
    expect(validated.size).toBe(0);
  });

  it('still checks issuer and expiry on a hit, and forgets an expired token', async () => {
    const validated = new AccessTokenCache<AccessTokenClaims>();
    const token = await mint(60);
    await validateAccessToken(token, ring, { issuer: CLUSTER, now, validated });
    expect(await validateAccessToken(token, ring, { issuer: 'c2', now, validated })).toMatchObject({ valid: false, code: 'wrong_issuer' });
    expect(await validateAccessToken(token, ring, { issuer: CLUSTER, now: later(89), validated })).toMatchObject({ valid: true });
    expect(await validateAccessToken(token, ring, { issuer: CLUSTER, now: later(120), validated })).toMatchObject({ valid: false, code: 'expired' });
    expect(validated.size).toBe(0);
  });

  it('vouches only while the ring holds the very key objects that verified and decrypted the token', async () => {
    const validated = new AccessTokenCache<AccessTokenClaims>();
    const token = await mint();
    await validateAccessToken(token, ring, { issuer: CLUSTER, now, validated });
    // Same kid, other key: a hit here would accept a signature nobody checked against this key.
    const impostor = createKeyRing([{ kid: signing.kid, publicKey: other.publicKey }], [encryption]);
    expect(await validateAccessToken(token, impostor, { issuer: CLUSTER, now, validated })).toMatchObject({ code: 'bad_signature' });
    expect(validated.size).toBe(0);
    await validateAccessToken(token, ring, { issuer: CLUSTER, now, validated });
    const newEncryption = createKeyRing([signing], [generateEncryptionKey(CLUSTER)]);
    expect(await validateAccessToken(token, newEncryption, { issuer: CLUSTER, now, validated })).toMatchObject({ code: 'unknown_key' });
    const regenerated = createKeyRing([other], [encryption]);
    expect(await validateAccessToken(token, regenerated, { issuer: CLUSTER, now, validated })).toMatchObject({ code: 'unknown_key' });
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const validated = new AccessTokenCache<AccessTokenClaims>(2);
    const tokens = await Promise.all([mint(), mint(), mint()]);
    for (const token of tokens) await validateAccessToken(token, ring, { issuer: CLUSTER, now, validated });
    expect(validated.size).toBe(2);
    expect(validated.lookup(tokens[0], ring)).toBeUndefined();
    expect(validated.lookup(tokens[2], ring)).toMatchObject({ sub: 'a' });
    expect(() => new AccessTokenCache<AccessTokenClaims>(0)).toThrow('positive');
  });
});
