import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** The authorization request's fields, in the order the token binds them. */
export const AUTHORIZATION_FIELDS = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method'] as const;

export const CSRF_COOKIE = 'authz_signin';
export const CSRF_FIELD = 'csrf_token';
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
// A request header is at most a few KiB; a handful of same-named cookies is all a browser sends.
const MAX_COOKIES_TRIED = 4;

/** Form submission turns every line break into CRLF: normalise so that a value survives the round trip. */
const lines = (value: string) => value.replace(/\r\n|\r/g, '\n');

/**
 * Login-CSRF protection of the sign-in form: the double-submit pattern hardened with a server
 * key. The browser holds a random cookie; the form holds HMAC(key, cookie, authorization
 * request), so a token fits one browser and one request, and forging one needs the key. The
 * key is derived (HKDF) from the KEK, which every node of the cluster holds: a form rendered
 * by one node is accepted by any other, and no new secret has to be configured or distributed.
 * A site that can plant cookies for this host (a sibling subdomain) could pair a planted cookie
 * with a token it fetched for it; the Origin / Sec-Fetch-Site check refuses its same-site POST.
 */
export class SignInCsrf {
  private readonly key: Buffer;

  constructor(kek: Buffer) {
    this.key = Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'authz sign-in form csrf v1', 32));
  }

  /** The browser's cookie value if it sent a well-formed one (another tab's form stays valid), else a new one. */
  cookieFor(cookieHeader: string | undefined): string {
    return cookieValues(cookieHeader)[0] ?? randomBytes(32).toString('base64url');
  }

  token(cookie: string, params: Record<string, unknown>): string {
    const bound = AUTHORIZATION_FIELDS.map((name) => (typeof params[name] === 'string' ? lines(params[name] as string) : null));
    return createHmac('sha256', this.key).update(JSON.stringify(['sign-in', cookie, ...bound])).digest('base64url');
  }

  /** Whether the posted form's token was made for this browser's cookie and this authorization request. */
  verify(cookieHeader: string | undefined, form: Record<string, unknown>): boolean {
    const given = form[CSRF_FIELD];
    if (typeof given !== 'string' || !TOKEN.test(given)) return false;
    const actual = Buffer.from(given);
    return cookieValues(cookieHeader)
      .slice(0, MAX_COOKIES_TRIED)
      .some((cookie) => timingSafeEqual(Buffer.from(this.token(cookie, form)), actual));
  }

  /** Path=/oauth: the browser sends it to the sign-in form only; Lax: never on a cross-site POST. */
  static setCookie(value: string, secure: boolean): string {
    return `${CSRF_COOKIE}=${value}; Path=/oauth; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  }
}

/** Every well-formed value of our cookie in a Cookie header, in the order the browser sent them. */
function cookieValues(header: string | undefined): string[] {
  if (!header || header.length > 16_384) return [];
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const at = pair.indexOf('=');
    if (at < 0 || pair.slice(0, at).trim() !== CSRF_COOKIE) continue;
    const value = pair.slice(at + 1).trim();
    if (COOKIE_VALUE.test(value)) values.push(value);
  }
  return values;
}

/**
 * Why a POST of the sign-in form is refused as cross-site, or undefined. A browser says where a
 * request comes from (Sec-Fetch-Site, Origin); a POST made by another site, even a sibling
 * subdomain, is refused. A client that sends neither (an old browser, a script) passes this
 * check and still needs the CSRF token.
 */
export function crossSiteRefusal(headers: Record<string, string | string[] | undefined>, ownOrigins: string[]): string | undefined {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return `the sign-in form was posted from another site (Sec-Fetch-Site: ${Array.isArray(site) ? site.join(', ') : site})`;
  }
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  // Browsers send the serialised origin ("null" from a sandbox or a no-referrer page): compared as it is.
  if (typeof origin !== 'string' || !ownOrigins.includes(origin)) {
    return 'the sign-in form was posted from another origin';
  }
  return undefined;
}

/** scheme://host[:port] as browsers serialise an origin, or undefined ("null", garbage). */
export function normalisedOrigin(value: string): string | undefined {
  if (value.length > 512) return undefined;
  try {
    const origin = new URL(value).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}
