import { FailureThrottle, ThrottledError } from './failure-throttle';

describe('FailureThrottle', () => {
  let now = 0;
  const throttle = () => new FailureThrottle({ perAccount: 3, perAddress: 5, windowSeconds: 60 }, () => now);
  const retryAfter = (fn: () => void) => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(ThrottledError);
      return (error as ThrottledError).retryAfterSeconds;
    }
    return 0;
  };

  beforeEach(() => {
    now = 1_000_000;
  });

  it('refuses an account after its limit of failures, until the oldest leaves the window', () => {
    const t = throttle();
    for (let i = 0; i < 3; i++) {
      expect(retryAfter(() => t.check('alice', '10.0.0.1'))).toBe(0);
      t.fail('alice', '10.0.0.1');
      now += 10_000;
    }
    expect(retryAfter(() => t.check('alice', '10.0.0.9'))).toBe(30);
    expect(retryAfter(() => t.check('bob', '10.0.0.9'))).toBe(0);
    now += 30_000;
    expect(retryAfter(() => t.check('alice', '10.0.0.9'))).toBe(0);
  });

  it('refuses an address spraying many accounts', () => {
    const t = throttle();
    for (const user of ['a', 'b', 'c', 'd', 'e']) t.fail(user, '10.0.0.2');
    expect(retryAfter(() => t.check('f', '10.0.0.2'))).toBe(60);
    expect(retryAfter(() => t.check('f', '10.0.0.3'))).toBe(0);
  });

  it('clears an account on success, but not its address', () => {
    const t = throttle();
    for (let i = 0; i < 5; i++) t.fail('alice', '10.0.0.4');
    t.succeed('alice');
    expect(retryAfter(() => t.check('alice', undefined))).toBe(0);
    expect(retryAfter(() => t.check('alice', '10.0.0.4'))).toBeGreaterThan(0);
  });
});
