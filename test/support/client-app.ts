import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** What the app's code callback got back from the token endpoint. */
export interface CodeExchange {
  state: string | null;
  status: number;
  body: any;
}

export interface ClientApp {
  /** http://127.0.0.1:<port>; the same server is also reached as http://localhost:<port>, another site. */
  readonly url: string;
  readonly port: number;
  readonly codeRedirectUri: string;
  readonly implicitRedirectUri: string;
  /** Every request the app's callbacks received, in order (path and query, the fragment never reaches a server). */
  readonly callbacks: string[];
  readonly exchanges: CodeExchange[];
  /** Where a browser starts a sign-in: the app redirects it to authz with a fresh state (and PKCE for the code flow). */
  startUrl(flow: 'code' | 'token'): string;
  /** Serves an HTML page on the app (e.g. an attacker's page at http://localhost:<port><path>). */
  page(path: string, html: string): void;
  close(): Promise<void>;
}

const escape = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A small web application, the OAuth client a browser signs in to: /start redirects to authz's
 * /oauth/authorize (code + PKCE S256, or the implicit flow), /callback checks the state and
 * exchanges the code at /oauth/token with its verifier, server to server, as a real client does,
 * and /implicit reads the token from the fragment with a script, as a single-page app does.
 */
export async function startClientApp(options: { authzUrl: string; codeClientId: string; implicitClientId: string; scope: string }): Promise<ClientApp> {
  const pending = new Map<string, { verifier?: string }>();
  const callbacks: string[] = [];
  const exchanges: CodeExchange[] = [];
  const pages = new Map<string, string>();
  let base = '';

  const send = (res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers });
    res.end(html);
  };
  const page = (title: string, body: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body>${body}</body></html>`;

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', base);
    if (url.pathname === '/start') {
      const flow = url.searchParams.get('flow') === 'token' ? 'token' : 'code';
      const state = randomBytes(16).toString('base64url');
      const params: Record<string, string> = { response_type: flow, client_id: flow === 'code' ? options.codeClientId : options.implicitClientId, scope: options.scope, state };
      if (flow === 'code') {
        const verifier = randomBytes(32).toString('base64url');
        pending.set(state, { verifier });
        Object.assign(params, { redirect_uri: `${base}/callback`, code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256' });
      } else {
        pending.set(state, {});
        params.redirect_uri = `${base}/implicit`;
      }
      res.writeHead(302, { location: `${options.authzUrl}/oauth/authorize?${new URLSearchParams(params)}` });
      return res.end();
    }
    if (url.pathname === '/callback') {
      callbacks.push(`${url.pathname}${url.search}`);
      const state = url.searchParams.get('state');
      const flow = state ? pending.get(state) : undefined;
      if (!flow?.verifier) return send(res, 400, page('Sign-in failed', '<p id="result">unknown state</p>'));
      pending.delete(state!);
      const code = url.searchParams.get('code');
      if (!code) return send(res, 400, page('Sign-in failed', `<p id="result">${escape(url.searchParams.get('error') ?? 'no code')}</p>`));
      const token = await fetch(`${options.authzUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: `${base}/callback`, client_id: options.codeClientId, code_verifier: flow.verifier }),
      });
      const body = await token.json().catch(() => undefined);
      exchanges.push({ state, status: token.status, body });
      const outcome = token.status === 200 ? `signed in (${escape(String(body.token_type))}, scope ${escape(String(body.scope))})` : `token request failed: ${token.status}`;
      return send(res, token.status === 200 ? 200 : 502, page('Signed in', `<h1>Voicemail</h1><p id="result">${outcome}</p>`));
    }
    if (url.pathname === '/implicit') {
      callbacks.push(`${url.pathname}${url.search}`);
      // A single-page app's callback: the token is in the fragment, which only the page's script sees.
      return send(
        res,
        200,
        page(
          'Signed in',
          `<h1>Voicemail</h1><pre id="result"></pre><script>
const fragment = Object.fromEntries(new URLSearchParams(location.hash.slice(1)));
document.getElementById('result').textContent = JSON.stringify(fragment);
history.replaceState(null, '', location.pathname);
</script>`,
        ),
      );
    }
    const html = pages.get(url.pathname);
    if (html !== undefined) return send(res, 200, html);
    send(res, 404, page('Not found', '<p>not found</p>'));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error) => send(res, 500, page('Error', `<p id="result">${escape(String(error))}</p>`)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    port,
    codeRedirectUri: `${base}/callback`,
    implicitRedirectUri: `${base}/implicit`,
    callbacks,
    exchanges,
    startUrl: (flow) => `${base}/start?flow=${flow}`,
    page: (path, html) => void pages.set(path, html),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
