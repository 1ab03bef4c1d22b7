import { VerifiedCredentials } from './verified-credentials';

describe('VerifiedCredentials', () => {
  let now = 0;
  let checks = 0;
  const slow = <T>(value: T | null) => () => {
    checks++;
    return new Promise<T | null>((resolve) => setTimeout(() => resolve(value), 5));
  };

  beforeEach(() => {
    now = 1_000_000;
    checks = 0;
  });

  it('runs one verification for concurrent requests with the same credentials', async () => {
    const cache = new VerifiedCredentials<string>(30_000, 100, () => now);
    const answers = await Promise.all(Array.from({ length: 32 }, () => cache.verify('svc', 's3cret', slow('svc'))));
    expect(answers).toEqual(Array(32).fill('svc'));
    expect(checks).toBe(1);
  });

  it('answers from memory until the entry expires, then verifies again once', async () => {
    const cache = new VerifiedCredentials<string>(30_000, 100, () => now);
    await cache.verify('svc', 's3cret', slow('svc'));
    now += 29_999;
    await cache.verify('svc', 's3cret', slow('svc'));
    expect(checks).toBe(1);
    now += 1;
    await Promise.all([cache.verify('svc', 's3cret', slow('svc')), cache.verify('svc', 's3cret', slow('svc'))]);
    expect(checks).toBe(2);
  });

  it('keeps no failure: a wrong secret is verified again on the next request', async () => {
    const cache = new VerifiedCredentials<string>(30_000, 100, () => now);
    const concurrent = await Promise.all([cache.verify('svc', 'wrong', slow(null)), cache.verify('svc', 'wrong', slow(null))]);
    expect(concurrent).toEqual([null, null]);
    expect(checks).toBe(1);
    expect(await cache.verify('svc', 'wrong', slow(null))).toBeNull();
    expect(checks).toBe(2);
  });

  it('keeps accounts and secrets apart, even where their concatenation is the same', async () => {
    const cache = new VerifiedCredentials<string>(30_000, 100, () => now);
    await cache.verify('ab', 'c', slow('ab'));
    expect(await cache.verify('a', 'bc', slow(null))).toBeNull();
    expect(await cache.verify('ab', 'x', slow(null))).toBeNull();
    expect(checks).toBe(3);
  });

  it('passes a failed verification to every waiter and does not keep it', async () => {
    const cache = new VerifiedCredentials<string>(30_000, 100, () => now);
    const failing = () => {
      checks++;
      return Promise.reject(new Error('directory unreachable'));
    };
    const results = await Promise.allSettled([cache.verify('svc', 's', failing), cache.verify('svc', 's', failing)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(checks).toBe(1);
    expect(await cache.verify('svc', 's', slow('svc'))).toBe('svc');
    expect(checks).toBe(2);
  });

  it('forgets everything once full rather than grow without bound', async () => {
    const cache = new VerifiedCredentials<string>(30_000, 2, () => now);
    await cache.verify('a', 's', slow('a'));
    await cache.verify('b', 's', slow('b'));
    await cache.verify('c', 's', slow('c'));
    await cache.verify('c', 's', slow('c'));
    expect(checks).toBe(3);
    await cache.verify('a', 's', slow('a'));
    expect(checks).toBe(4);
  });
});
