import { randomBytes } from 'node:crypto';
import { CSRF_COOKIE, SignInCsrf, crossSiteRefusal, normalisedOrigin } from './signin-csrf';

const kek = randomBytes(32);
const request = { response_type: 'code', client_id: 'chat', redirect_uri: 'https://app.example/cb', state: 's1', code_challenge: 'c'.repeat(43), code_challenge_method: 'S256' };

describe('SignInCsrf', () => {
  const csrf = new SignInCsrf(kek);
  const cookie = csrf.cookieFor(undefined);
  const header = `other=1; ${CSRF_COOKIE}=${cookie}`;
  const posted = (extra: Record<string, unknown> = {}) => ({ ...request, username: 'alice', password: 'pw', csrf_token: csrf.token(cookie, request), ...extra });

  it('accepts the token made for this cookie and this authorization request, on any node holding the KEK', () => {
    expect(csrf.verify(header, posted())).toBe(true);
    expect(new SignInCsrf(Buffer.from(kek)).verify(header, posted())).toBe(true);
  });

  it('refuses a token made with another key', () => {
    const other = new SignInCsrf(randomBytes(32));
    expect(other.verify(header, posted())).toBe(false);
  });

  it('refuses a missing, empty, repeated, altered or oversize token', () => {
    const token = csrf.token(cookie, request);
    const flipped = (token[0] === 'A' ? 'B' : 'A') + token.slice(1);
    for (const csrf_token of [undefined, '', [token, token], flipped, token.slice(1), `${token}x`, 'x'.repeat(10_000)]) {
      expect(csrf.verify(header, posted({ csrf_token }))).toBe(false);
    }
  });

  it('refuses without the cookie, with another cookie, or with a malformed one', () => {
    expect(csrf.verify(undefined, posted())).toBe(false);
    expect(csrf.verify('other=1', posted())).toBe(false);
    expect(csrf.verify(`${CSRF_COOKIE}=${csrf.cookieFor(undefined)}`, posted())).toBe(false);
    expect(csrf.verify(`${CSRF_COOKIE}=${cookie}x`, posted())).toBe(false);
    expect(csrf.verify(`x${CSRF_COOKIE}=${cookie}`, posted())).toBe(false);
  });

  it.each(Object.keys(request))('refuses the token once %s is changed, added or removed', (field) => {
    expect(csrf.verify(header, posted({ [field]: `${request[field as keyof typeof request]}x` }))).toBe(false);
    expect(csrf.verify(header, posted({ [field]: undefined }))).toBe(false);
  });

  it('binds fields the request did not have: adding one breaks the token', () => {
    const bare = { response_type: 'token', client_id: 'rtmt' };
    const token = csrf.token(cookie, bare);
    expect(csrf.verify(header, { ...bare, csrf_token: token })).toBe(true);
    expect(csrf.verify(header, { ...bare, scope: 'admin', csrf_token: token })).toBe(false);
    expect(csrf.verify(header, { ...bare, redirect_uri: 'https://evil.example/', csrf_token: token })).toBe(false);
  });

  it('does not depend on what the user typed', () => {
    expect(csrf.verify(header, posted({ username: 'bob', password: 'other' }))).toBe(true);
  });

  it("survives a browser's line-break normalisation of a value", () => {
    const withLf = { ...request, state: 'a\nb' };
    expect(csrf.verify(header, { ...withLf, state: 'a\r\nb', csrf_token: csrf.token(cookie, withLf) })).toBe(true);
  });

  it("keeps the browser's cookie so that two tabs' forms stay valid, and makes a new one otherwise", () => {
    expect(csrf.cookieFor(header)).toBe(cookie);
    expect(csrf.cookieFor(`${CSRF_COOKIE}=short`)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrf.cookieFor(`${CSRF_COOKIE}=short`)).not.toBe(csrf.cookieFor(`${CSRF_COOKIE}=short`));
  });

  it('accepts any of several cookies of the same name (one planted with a narrower path comes first)', () => {
    expect(csrf.verify(`${CSRF_COOKIE}=${csrf.cookieFor(undefined)}; ${header}`, posted())).toBe(true);
  });

  it('sets an HttpOnly, SameSite=Lax cookie for /oauth, Secure when asked', () => {
    expect(SignInCsrf.setCookie(cookie, false)).toBe(`${CSRF_COOKIE}=${cookie}; Path=/oauth; HttpOnly; SameSite=Lax`);
    expect(SignInCsrf.setCookie(cookie, true)).toBe(`${CSRF_COOKIE}=${cookie}; Path=/oauth; HttpOnly; SameSite=Lax; Secure`);
  });
});

describe('crossSiteRefusal', () => {
  const own = ['http://127.0.0.1:8080', 'https://authz.example'];

  it.each([
    ['no header at all (an old browser, a script)', {}],
    ['same-origin', { 'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1:8080' }],
    ['a navigation the user started', { 'sec-fetch-site': 'none' }],
    ['the public origin behind a proxy', { origin: 'https://authz.example' }],
  ])('allows %s', (_, headers) => {
    expect(crossSiteRefusal(headers, own)).toBeUndefined();
  });

  it.each([
    ['a cross-site POST', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }, /another site/],
    ['a same-site POST (a sibling subdomain)', { 'sec-fetch-site': 'same-site' }, /another site/],
    ['an unknown Sec-Fetch-Site', { 'sec-fetch-site': 'whatever' }, /another site/],
    ['a repeated Sec-Fetch-Site', { 'sec-fetch-site': ['same-origin', 'cross-site'] }, /another site/],
    ['another origin', { origin: 'https://evil.example' }, /another origin/],
    ['another port of the same host', { origin: 'http://127.0.0.1:9090' }, /another origin/],
    ['an opaque origin', { origin: 'null' }, /another origin/],
    ['an origin with a path', { origin: 'http://127.0.0.1:8080/x' }, /another origin/],
    ['a repeated Origin', { origin: ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'] }, /another origin/],
  ])('refuses %s', (_, headers, reason) => {
    expect(crossSiteRefusal(headers, own)).toMatch(reason);
  });
});

describe('normalisedOrigin', () => {
  it('serialises as a browser does, and refuses what has no origin', () => {
    expect(normalisedOrigin('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(normalisedOrigin('HTTPS://Authz.Example:443/base')).toBe('https://authz.example');
    expect(normalisedOrigin('com.example.app:/cb')).toBeUndefined();
    expect(normalisedOrigin('not a url')).toBeUndefined();
    expect(normalisedOrigin(`https://${'a'.repeat(600)}.example`)).toBeUndefined();
  });
});
