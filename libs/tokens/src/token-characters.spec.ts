import {
  createKeyRing,
  generateEncryptionKey,
  generateSigningKey,
  mintAccessToken,
  mintRefreshToken,
  validateAccessToken,
  validateRefreshToken,
  AccessTokenCache,
  SignatureCache,
  type AccessTokenClaims,
  type KeyRing,
  type ValidationOptions,
} from './index';

const CLUSTER = 'c1';
const now = new Date('2026-01-01T00:00:00Z');
const options: ValidationOptions = { issuer: CLUSTER, now };

let ring: KeyRing;
let access: string;
let refresh: string;

beforeAll(async () => {
  const signing = await generateSigningKey(CLUSTER);
  const encryption = generateEncryptionKey(CLUSTER);
  ring = createKeyRing([signing], [encryption]);
  access = (await mintAccessToken({ signing, encryption }, { sub: 'alice', client_id: 'c', scope: 'openid' }, 3600, now)).token;
  refresh = (await mintRefreshToken({ signing }, { clientId: 'c' }, 86400, now)).token;
});

/** The token with its character at `index` replaced by U+0100 + that character: the same byte once masked to 8 bits. */
function respelled(token: string, index: number): string {
  return token.slice(0, index) + String.fromCharCode(0x100 + token.charCodeAt(index)) + token.slice(index + 1);
}

/** One index in each segment of the JWS: header, payload (the JWE or the claims), signature. */
function indexes(token: string): number[] {
  const [header, payload] = token.split('.');
  return [3, header.length + 1 + Math.floor(payload.length / 2), token.length - 5];
}

describe('a token is one spelling of its bytes: only [A-Za-z0-9_.-]', () => {
  it('the original access and refresh tokens validate', async () => {
    expect(await validateAccessToken(access, ring, options)).toMatchObject({ valid: true, claims: { sub: 'alice' } });
    expect(await validateRefreshToken(refresh, ring, options)).toMatchObject({ valid: true, claims: { ccid: 'c' } });
  });

  it('refuses the U+0100+c variant of a character of any segment of a valid access token', async () => {
    for (const index of indexes(access)) {
      expect(await validateAccessToken(respelled(access, index), ring, options)).toEqual({ valid: false, code: 'malformed', reason: expect.any(String) });
    }
  });

  it('refuses the U+0100+c variant of a character of any segment of a valid refresh token', async () => {
    for (const index of indexes(refresh)) {
      expect(await validateRefreshToken(respelled(refresh, index), ring, options)).toEqual({ valid: false, code: 'malformed', reason: expect.any(String) });
    }
  });

  it('refuses a variant even when the original is in the caches of validated tokens and signatures', async () => {
    const validated = new AccessTokenCache<AccessTokenClaims>();
    const cache = new SignatureCache(100);
    const cached = { ...options, validated, cache };
    expect((await validateAccessToken(access, ring, cached)).valid).toBe(true);
    expect((await validateAccessToken(access, ring, cached)).valid).toBe(true);
    for (const index of indexes(access)) {
      expect(await validateAccessToken(respelled(access, index), ring, cached)).toMatchObject({ valid: false, code: 'malformed' });
    }
    expect((await validateRefreshToken(refresh, ring, { ...options, cache })).valid).toBe(true);
    expect(await validateRefreshToken(respelled(refresh, indexes(refresh)[1]), ring, { ...options, cache })).toMatchObject({ valid: false, code: 'malformed' });
  });

  it.each([
    ['a space', ' '],
    ['a plus (base64, not base64url)', '+'],
    ['a slash', '/'],
    ['padding', '='],
    ['a NUL', '\u0000'],
    ['a line break', '\n'],
    ['a non-ASCII letter', 'é'],
  ])('refuses %s anywhere in the token', async (_, character) => {
    for (const token of [access, refresh]) {
      const [header, ...rest] = token.split('.');
      const spoiled = [header + character, ...rest].join('.');
      const validate = token === access ? validateAccessToken : validateRefreshToken;
      expect(await validate(spoiled, ring, options)).toMatchObject({ valid: false, code: 'malformed' });
    }
  });
});
