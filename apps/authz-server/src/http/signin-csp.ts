/**
 * The Content-Security-Policy of the sign-in and error pages: nothing loads but this server's
 * own stylesheet, no script runs, no one frames them.
 *
 * Browsers apply form-action to the redirects that follow a form submission, so the sign-in
 * page must also allow the place its POST redirects to: the client's redirect URI. We allow
 * exactly the origin of the redirect URI that the authorization request check validated
 * against the client's registration (never a URI taken from the request unchecked). The
 * alternative, a 303 to a same-origin continuation page that then sends the browser on, would
 * keep form-action 'self' but cost an extra round trip and either put the code in that page's
 * URL (this server's history and logs) or keep server-side state for one hop, and it needs a
 * page that navigates on its own (meta refresh): more moving parts for the same destination.
 */
const BASE = "default-src 'none'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'";

// What a CSP host-source can say (CSP3 §2.3.1): WHATWG URL parsing lets through hosts such as
// "a,b.example" or "a'b.example", which would end the directive or the policy.
const HOST_SOURCE = /^[a-z0-9-]+(\.[a-z0-9-]+)*$/;

/** The CSP source that matches the redirect URI: its origin, or its scheme when no origin can be written. */
export function formActionSource(redirectUri: string): string {
  const url = new URL(redirectUri);
  const scheme = url.protocol; // "https:", "com.example.app:": lower case, [a-z][a-z0-9+.-]*
  // A custom scheme (a native app, RFC 8252 §7.1) belongs to the app: the scheme is its origin.
  if (scheme !== 'http:' && scheme !== 'https:') return scheme;
  // An IPv6 literal ([::1], RFC 8252 §7.3) has no host-source syntax: fall back to the scheme.
  if (!HOST_SOURCE.test(url.hostname)) return scheme;
  return url.origin;
}

export function signInPagePolicy(redirectUri: string): string {
  return `${BASE}; form-action 'self' ${formActionSource(redirectUri)}`;
}

/** A page without a form: nothing may be submitted from it. */
export const ERROR_PAGE_POLICY = `${BASE}; form-action 'none'`;
