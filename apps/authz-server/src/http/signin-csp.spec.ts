import { ERROR_PAGE_POLICY, formActionSource, signInPagePolicy } from './signin-csp';

describe('the sign-in page CSP', () => {
  it.each([
    ['https://app.example/callback?x=1', 'https://app.example'],
    ['https://App.Example:443/cb', 'https://app.example'],
    ['https://app.example:8443/cb', 'https://app.example:8443'],
    ['http://127.0.0.1:5000/cb', 'http://127.0.0.1:5000'],
    ['https://xn--bcher-kva.de/cb', 'https://xn--bcher-kva.de'],
    ['https://bücher.de/cb', 'https://xn--bcher-kva.de'],
    // Custom schemes of native apps (RFC 8252 §7.1): the scheme source.
    ['com.example.app:/oauth2redirect', 'com.example.app:'],
    ['myapp://callback/path', 'myapp:'],
    // No host-source can name an IPv6 literal, nor a host WHATWG URLs let through with , ; ' * in it.
    ['http://[::1]:8080/cb', 'http:'],
    ['https://a,b.example/cb', 'https:'],
    ["https://a'b.example/cb", 'https:'],
    ['https://a*b.example/cb', 'https:'],
  ])('allows %s as %s', (uri, source) => {
    expect(formActionSource(uri)).toBe(source);
  });

  it('never lets a redirect URI add a directive or a policy', () => {
    for (const uri of ['https://a,b.example/cb', 'https://a.example/;script-src%20*', 'https://a.example/cb?x=;%20script-src%20*,default-src%20*']) {
      const policy = signInPagePolicy(uri);
      expect(policy.split(';').map((d) => d.trim().split(' ')[0])).toEqual(['default-src', 'style-src', 'base-uri', 'frame-ancestors', 'form-action']);
      expect(policy).not.toContain(',');
    }
  });

  it("loads nothing but this server's stylesheet, and frames nothing", () => {
    expect(signInPagePolicy('https://app.example/cb')).toBe(
      "default-src 'none'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' https://app.example",
    );
    expect(ERROR_PAGE_POLICY).toContain("form-action 'none'");
    expect(ERROR_PAGE_POLICY).not.toContain('script-src');
  });
});
