import {
  exportEncryptionJwk,
  exportPublicJwk,
  generateEncryptionKey,
  generateSigningKey,
  mintAccessToken,
  mintRefreshToken,
  type MintingKeys,
} from '@authz/tokens';
import { TokenValidator } from './index.js';

/** Fake authz nodes: each URL answers GET /oauth/keys with its cluster's current keys (or fails). */
async function cluster(id: string): Promise<{ id: string; keys: MintingKeys; body: () => string }> {
  const c: { id: string; keys: MintingKeys; body: () => string } = {
    id,
    keys: { signing: await generateSigningKey(id), encryption: generateEncryptionKey(id) },
    body: () => JSON.stringify({ issuer: id, keys: [exportPublicJwk(c.keys.signing), exportEncryptionJwk(c.keys.encryption)] }),
  };
  return c;
}

describe('TokenValidator (unit, fake authz nodes)', () => {
  const credentials = { username: 'vm', password: 'secret' };
  let a: Awaited<ReturnType<typeof cluster>>;
  let b: Awaited<ReturnType<typeof cluster>>;
  let down: Set<string>;
  let calls: string[];
  const fakeFetch = (routes: Record<string, () => Awaited<ReturnType<typeof cluster>>>) =>
    (async (input: URL | string, init?: RequestInit) => {
      const url = new URL(input);
      calls.push(url.origin);
      expect((init?.headers as Record<string, string>).authorization).toBe(`Basic ${Buffer.from('vm:secret').toString('base64')}`);
      if (down.has(url.origin)) throw new TypeError('fetch failed');
      return new Response(routes[url.origin]().body(), { status: 200 });
    }) as typeof fetch;

  beforeAll(async () => {
    [a, b] = await Promise.all([cluster('cluster-a'), cluster('cluster-b')]);
  });
  beforeEach(() => {
    down = new Set();
    calls = [];
  });

  const mint = (c: { keys: MintingKeys }, sub = 'alice') => mintAccessToken(c.keys, { sub, client_id: 'jabber', scope: 'vm.read' }, 600).then((m) => m.token);
  const make = (options: Partial<ConstructorParameters<typeof TokenValidator>[0]> = {}) =>
    new TokenValidator({
      servers: ['http://a1', 'http://a2', 'http://b1'].map((url) => ({ url, credentials })),
      fetch: fakeFetch({ 'http://a1': () => a, 'http://a2': () => a, 'http://b1': () => b }),
      refreshIntervalMs: 0,
      ...options,
    });

  it('routes each token to the cluster its kid names, and says which', async () => {
    const v = make();
    expect(await v.validate(await mint(a))).toMatchObject({ valid: true, clusterId: 'cluster-a', claims: { sub: 'alice', iss: 'cluster-a' } });
    expect(await v.validate(await mint(b, 'bob'))).toMatchObject({ valid: true, clusterId: 'cluster-b', claims: { sub: 'bob' } });
    expect(v.status().clusters.map((c) => [c.clusterId, c.urls])).toEqual([
      ['cluster-a', ['http://a1', 'http://a2']],
      ['cluster-b', ['http://b1']],
    ]);
    await v.close();
  });

  it('refuses an unknown cluster, a refresh token, a tampered or expired token, with their codes; never throws', async () => {
    const v = make();
    const other = await cluster('cluster-c');
    expect(await v.validate(await mint(other))).toMatchObject({ valid: false, code: 'unknown_cluster' });
    const refresh = await mintRefreshToken(a.keys, { clientId: 'jabber' }, 3600);
    expect(await v.validate(refresh.token)).toMatchObject({ valid: false, code: 'wrong_type' });
    const token = await mint(a);
    expect(await v.validate(token.slice(0, -4) + 'AAAA')).toMatchObject({ valid: false, code: 'bad_signature' });
    expect(await v.validate('x'.repeat(20_000))).toMatchObject({ valid: false, code: 'too_large' });
    expect(await v.validate(42 as never)).toMatchObject({ valid: false, code: 'malformed' });
    const expired = (await mintAccessToken(a.keys, { sub: 'alice', client_id: 'jabber', scope: 'vm.read' }, 1, new Date(Date.now() - 3_600_000))).token;
    expect(await v.validate(expired)).toMatchObject({ valid: false, code: 'expired' });
    await v.close();
  });

  it('fails over between the URLs of one cluster', async () => {
    down.add('http://a1');
    const v = make();
    expect(await v.validate(await mint(a))).toMatchObject({ valid: true, clusterId: 'cluster-a' });
    expect(v.status().clusters.find((c) => c.clusterId === 'cluster-a')?.from).toBe('http://a2');
    await v.close();
  });

  it('refetches once on an unknown kid (single-flight), rate limited, and on sync()', async () => {
    const v = make({ unknownKidRefetchIntervalMs: 60_000 });
    const old = await mint(a);
    expect((await v.validate(old)).valid).toBe(true);
    const before = a.keys;
    a.keys = { signing: await generateSigningKey('cluster-a'), encryption: before.encryption };
    calls = [];
    const fresh = await mint(a);
    const results = await Promise.all(Array.from({ length: 20 }, () => v.validate(fresh)));
    expect(results.every((r) => r.valid)).toBe(true);
    expect(calls).toEqual(['http://a1']);
    // The old kid is no longer current; within the interval it costs no further fetch.
    expect(await v.validate(old)).toMatchObject({ valid: false, code: 'unknown_key' });
    const forged = await mint({ keys: { signing: await generateSigningKey('cluster-a'), encryption: before.encryption } });
    expect(await v.validate(forged)).toMatchObject({ valid: false, code: 'unknown_key' });
    expect(calls).toEqual(['http://a1']);
    calls = [];
    const synced = await v.sync();
    expect(calls.sort()).toEqual(['http://a1', 'http://a2', 'http://b1']);
    expect(synced.errors).toEqual([]);
    await v.close();
  });

  it('refetches on its schedule', async () => {
    const v = make({ refreshIntervalMs: 50 });
    expect((await v.validate(await mint(b))).valid).toBe(true);
    calls = [];
    await new Promise((r) => setTimeout(r, 180));
    expect(calls.filter((c) => c === 'http://b1').length).toBeGreaterThanOrEqual(2);
    await v.close();
  });

  it('answers keys_unavailable when no server ever gave its keys, and keeps the keys it has when they all go down', async () => {
    down = new Set(['http://a1', 'http://a2', 'http://b1']);
    const none = make();
    expect(await none.validate(await mint(a))).toMatchObject({ valid: false, code: 'keys_unavailable', reason: expect.stringContaining('fetch failed') });
    await none.close();
    down = new Set();
    const v = make();
    const token = await mint(b);
    expect((await v.validate(token)).valid).toBe(true);
    down = new Set(['http://a1', 'http://a2', 'http://b1']);
    expect((await v.sync()).errors).toHaveLength(3);
    expect((await v.validate(await mint(b, 'carol'))).valid).toBe(true);
    await v.close();
  });

  it('caches validated tokens by their exact text, and forgets them once their key is not current', async () => {
    const c = await cluster('cluster-a');
    const v2 = new TokenValidator({ servers: [{ url: 'http://c1', credentials }], fetch: fakeFetch({ 'http://c1': () => c }), refreshIntervalMs: 0, unknownKidRefetchIntervalMs: 0 });
    const token = await mint(c);
    const first = await v2.validate(token);
    expect(first.valid).toBe(true);
    const second = await v2.validate(token);
    expect(second.valid && first.valid && second.claims).toBe(first.valid && first.claims); // the same frozen object: a hit
    c.keys = { signing: await generateSigningKey('cluster-a'), encryption: c.keys.encryption };
    await v2.sync();
    expect(await v2.validate(token)).toMatchObject({ valid: false, code: 'unknown_key' });
    await v2.close();
  });
});
