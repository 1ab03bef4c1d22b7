import { findNul } from './refuse-nul';

describe('findNul', () => {
  it('finds nothing in values without U+0000', () => {
    expect(findNul(undefined)).toBeUndefined();
    expect(findNul(null)).toBeUndefined();
    expect(findNul(42)).toBeUndefined();
    expect(findNul('plain')).toBeUndefined();
    expect(findNul({ a: 'x', b: [1, 'y', { c: true }], '\\u0000': 'the escape spelled out, not the character' })).toBeUndefined();
  });

  it('names the field that holds it: a string, a list item, a nested value, a key', () => {
    expect(findNul('a\u0000b')).toEqual([]);
    expect(findNul({ userId: 'a\u0000b' })).toEqual(['userId']);
    expect(findNul({ roles: ['admin', 'x\u0000'] })).toEqual(['roles', '1']);
    expect(findNul({ a: { b: [{ c: '\u0000' }] } })).toEqual(['a', 'b', '0', 'c']);
    expect(findNul({ ['key\u0000']: 1 })).toEqual(['key\u0000']);
  });

  it('reads what JSON and forms parse to: a JSON \\u0000 escape, a form %00', () => {
    expect(findNul(JSON.parse('{"password": "pass\\u0000word"}'))).toEqual(['password']);
    expect(findNul(Object.fromEntries(new URLSearchParams('username=alice%00&password=x')))).toEqual(['username']);
  });

  it('finds it however deep it nests, in linear time, without overflowing the stack', () => {
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const started = performance.now();
    expect(findNul(deep)).toHaveLength(100_000);
    let clean: unknown = 'x';
    for (let i = 0; i < 100_000; i++) clean = { a: clean };
    expect(findNul(clean)).toBeUndefined();
    // Quadratic work (a copy of the path per level) took a minute here; linear, milliseconds.
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('names the first such field in document order', () => {
    expect(findNul({ a: ['ok', 'b\u0000'], c: '\u0000' })).toEqual(['a', '1']);
  });
});
