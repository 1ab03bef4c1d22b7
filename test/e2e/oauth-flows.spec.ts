import { createHash, randomBytes } from 'node:crypto';
import { describeModes, modesFromEnv, startDeployment, type Deployment } from '../support/deployment';
import { clientBasic, form, introspect, postSignIn, serviceClient, withoutEchoes } from '../support/oauth';
import { api, type Node } from '../support/processes';

const REDIRECT = 'https://app.example/callback';

/**
 * The user-facing flows of seed S1–S3, S10, S13 against a real server, in both modes. Cluster:
 * the user signs in and the code is redeemed on node A, refreshes go to node B.
 */
describeModes(modesFromEnv(), 'OAuth flows (%s mode)', (mode) => {
  let d: Deployment;
  /** Where the user signs in, the code is redeemed and tokens are introspected: node A. */
  let node: Node;
  let admin: string;
  let resourceServer: { clientId: string; clientSecret: string };

  const pkce = () => {
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
  };

  /** Drives the login form as a browser would and answers the Location it is sent to. */
  async function authorize(params: Record<string, string>, username = 'alice', password = 'alice-password'): Promise<URL> {
    const posted = await postSignIn(node.url, params, username, password);
    expect(posted.status).toBe(302);
    return new URL(posted.headers.get('location')!);
  }

  async function codeFlow(clientId = 'chat-app') {
    const { verifier, challenge } = pkce();
    const state = randomBytes(8).toString('hex');
    const location = await authorize({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, state, code_challenge: challenge, code_challenge_method: 'S256' });
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get('state')).toBe(state);
    const code = location.searchParams.get('code')!;
    const tokens = await form(`${node.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: clientId });
    return { code, verifier, tokens };
  }

  /** A refresh on "the other node" (node B; the same node in embedded mode). */
  const refresh = (refreshToken: string, clientId = 'chat-app') => form(`${d.b.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });

  beforeAll(async () => {
    d = await startDeployment(mode, { name: 'flows' });
    node = d.a;
    admin = d.admin;
    const user = await api(`${node.url}/admin/users`, { method: 'POST', auth: admin, body: { userId: 'alice', password: 'alice-password', roles: [] } });
    expect(user.status).toBe(201);
    for (const [clientId, grantTypes] of [['chat-app', ['authorization_code', 'refresh_token']], ['rtmt', ['implicit']], ['other-app', ['authorization_code']]] as const) {
      const created = await api(`${node.url}/admin/clients`, { method: 'POST', auth: admin, body: { clientId, clientName: clientId, type: 'public', redirectUris: [REDIRECT], grantTypes, scope: 'chat' } });
      expect(created.status).toBe(201);
    }
    resourceServer = await serviceClient(node.url, admin, 'resource-server');
    // Cluster: the clients reach every node through their projection (embedded reads its own writes at once).
    if (mode === 'cluster') await d.caughtUp();
  });

  afterAll(async () => d?.stop());

  it('with the refresh login flow Disabled (the default) offers only the implicit flow', async () => {
    const metadata = (await api(`${node.url}/.well-known/oauth-authorization-server`)).body;
    expect(metadata.response_types_supported).toEqual(['token']);
    expect(metadata.grant_types_supported).not.toContain('authorization_code');
    const response = await fetch(`${node.url}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: 'chat-app', redirect_uri: REDIRECT, state: 's1' })}`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('unsupported_response_type');
    expect(location.searchParams.get('state')).toBe('s1');
  });

  it('implicit grant: the access token in the fragment, no refresh token', async () => {
    const location = await authorize({ response_type: 'token', client_id: 'rtmt', redirect_uri: REDIRECT, state: 'xyz' });
    const fragment = new URLSearchParams(location.hash.slice(1));
    expect(fragment.get('token_type')).toBe('Bearer');
    expect(fragment.get('state')).toBe('xyz');
    expect(fragment.has('refresh_token')).toBe(false);
    expect(location.search).toBe('');
    expect(await introspect(node.url, resourceServer, fragment.get('access_token')!)).toMatchObject({ active: true, sub: 'alice', client_id: 'rtmt' });
  });

  describe('with the refresh login flow Enabled', () => {
    beforeAll(async () => {
      const put = await api(`${node.url}/admin/parameters`, { method: 'PUT', auth: admin, body: { oauthWithRefreshLoginFlow: 'Enabled' } });
      expect(put.status).toBe(200);
      // Cluster: every node reads the switch from the projection (embedded reads its own write at once).
      if (mode === 'cluster') await d.caughtUp();
    });

    it('advertises the code flow with PKCE', async () => {
      const metadata = (await api(`${node.url}/.well-known/oauth-authorization-server`)).body;
      expect(metadata.response_types_supported).toEqual(['code', 'token']);
      expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
      expect(metadata.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token']));
    });

    it('authorization code + PKCE → tokens → refresh gives a new access token each time, the refresh token stays valid', async () => {
      const { tokens } = await codeFlow();
      expect(tokens.status).toBe(200);
      expect(tokens.headers.get('cache-control')).toBe('no-store');
      expect(tokens.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'chat' });
      expect(await introspect(node.url, resourceServer, tokens.body.access_token)).toMatchObject({ active: true, sub: 'alice', client_id: 'chat-app', scope: 'chat' });
      const first = await refresh(tokens.body.refresh_token);
      const second = await refresh(tokens.body.refresh_token);
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(new Set([tokens.body.access_token, first.body.access_token, second.body.access_token]).size).toBe(3);
      // Seed S10: the earlier access token stays valid until its own expiry.
      expect((await introspect(node.url, resourceServer, tokens.body.access_token)).active).toBe(true);
    });

    it('the same user on two devices gets two refresh tokens; revoking one leaves the other working (seed S13)', async () => {
      const phone = (await codeFlow()).tokens.body;
      const laptop = (await codeFlow()).tokens.body;
      expect(phone.refresh_token).not.toBe(laptop.refresh_token);
      const revoked = await form(`${node.url}/oauth/revoke`, { token: phone.refresh_token, token_type_hint: 'refresh_token', client_id: 'chat-app' });
      expect(revoked.status).toBe(200);
      expect((await refresh(phone.refresh_token)).body.error).toBe('invalid_grant');
      expect((await refresh(laptop.refresh_token)).status).toBe(200);
    });

    it('a replayed code fails and revokes what the code issued', async () => {
      const { code, verifier, tokens } = await codeFlow();
      const replay = await form(`${node.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: 'chat-app' });
      expect(replay.status).toBe(400);
      expect(replay.body.error).toBe('invalid_grant');
      expect((await refresh(tokens.body.refresh_token)).body.error).toBe('invalid_grant');
    });

    it.each([
      ['a wrong PKCE verifier', () => ({ code_verifier: randomBytes(32).toString('base64url') })],
      ['no PKCE verifier', () => ({ code_verifier: '' })],
      ['another redirect_uri', () => ({ redirect_uri: 'https://app.example/other' })],
      ['another client', () => ({ client_id: 'other-app' })],
    ])('%s → invalid_grant', async (_, change) => {
      const { verifier, challenge } = pkce();
      const location = await authorize({ response_type: 'code', client_id: 'chat-app', redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' });
      const fields = { grant_type: 'authorization_code', code: location.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier, client_id: 'chat-app', ...change() };
      const response = await form(`${node.url}/oauth/token`, Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== '')));
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_grant');
    });

    it('refuses a public client without PKCE, at the redirect URI', async () => {
      const response = await fetch(`${node.url}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: 'chat-app', redirect_uri: REDIRECT })}`, { redirect: 'manual' });
      expect(response.status).toBe(302);
      expect(new URL(response.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
    });

    it.each([
      ['an unregistered redirect_uri', { response_type: 'code', client_id: 'chat-app', redirect_uri: 'https://evil.example/steal' }],
      ['an unknown client', { response_type: 'code', client_id: 'nobody', redirect_uri: REDIRECT }],
      ['no client', { response_type: 'code', redirect_uri: REDIRECT }],
    ])('shows an error page and never redirects for %s', async (_, params) => {
      const response = await fetch(`${node.url}/oauth/authorize?${new URLSearchParams(params)}`, { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(await response.text()).toContain('Authorization error');
    });

    it.each([
      ['a repeated response_type', 'response_type=code&response_type=token', 'invalid_request'],
      ['an unknown response_type', 'response_type=id_token', 'unsupported_response_type'],
      ['a plain PKCE method', 'response_type=code&code_challenge_method=plain', 'invalid_request'],
      ['a short code challenge', 'response_type=code&code_challenge=abc&code_challenge_method=S256', 'invalid_request'],
      ['a scope the client may not have', 'response_type=code&scope=admin', 'invalid_scope'],
      ['a malformed scope', 'response_type=code&scope=%22quoted%22', 'invalid_scope'],
      ['an oversize state', `response_type=code&state=${'s'.repeat(3000)}`, 'invalid_request'],
      ['the implicit flow for a code-only client', 'response_type=token', 'unauthorized_client'],
    ])('authorize: %s → redirected with %s', async (_, extra, error) => {
      const { challenge } = pkce();
      const params = `client_id=chat-app&redirect_uri=${encodeURIComponent(REDIRECT)}&${extra}${extra.includes('code_challenge') ? '' : `&code_challenge=${challenge}&code_challenge_method=S256`}`;
      const response = await fetch(`${node.url}/oauth/authorize?${params}`, { redirect: 'manual' });
      expect(response.status).toBe(302);
      const location = new URL(response.headers.get('location')!);
      expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
      expect(new URLSearchParams(location.search || location.hash.slice(1)).get('error')).toBe(error);
    });

    it('a wrong password and an unknown user get the same page', async () => {
      const { challenge } = pkce();
      const params = { response_type: 'code', client_id: 'chat-app', redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' };
      const wrong = await postSignIn(node.url, params, 'alice', 'not-her-password');
      const unknown = await postSignIn(node.url, params, 'mallory', 'not-her-password');
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      // The same page but for what differs by design: the typed username, kept, and each browser's anti-forgery token.
      expect(withoutEchoes(await wrong.text())).toBe(withoutEchoes(await unknown.text()));
    });

    it.each([
      ['no grant_type', { client_id: 'chat-app' }, 400, 'invalid_request'],
      ['an unknown grant_type', { grant_type: 'password', client_id: 'chat-app' }, 400, 'unsupported_grant_type'],
      ['no client', { grant_type: 'refresh_token', refresh_token: 'x' }, 401, 'invalid_client'],
      ['an unknown client', { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'nobody' }, 401, 'invalid_client'],
      ['a garbage refresh token', { grant_type: 'refresh_token', refresh_token: 'x.y.z', client_id: 'chat-app' }, 400, 'invalid_grant'],
      ['no refresh token', { grant_type: 'refresh_token', client_id: 'chat-app' }, 400, 'invalid_request'],
      ['a garbage code', { grant_type: 'authorization_code', code: 'nope', client_id: 'chat-app' }, 400, 'invalid_grant'],
      ['an oversize parameter', { grant_type: 'refresh_token', refresh_token: 'a'.repeat(9000), client_id: 'chat-app' }, 400, 'invalid_request'],
    ])('token endpoint: %s', async (_, fields, status, error) => {
      const response = await form(`${node.url}/oauth/token`, fields as Record<string, string>);
      expect(response.status).toBe(status);
      expect(response.body.error).toBe(error);
      expect(response.body.error_description).toEqual(expect.any(String));
    });

    it('token endpoint: a repeated parameter, an access token as refresh token, another client\'s refresh token, a wrong secret', async () => {
      const repeated = await fetch(`${node.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&grant_type=client_credentials&client_id=chat-app' });
      expect(repeated.status).toBe(400);
      expect(((await repeated.json()) as { error: string }).error).toBe('invalid_request');
      const { tokens } = await codeFlow();
      expect((await refresh(tokens.body.access_token)).body.error).toBe('invalid_grant');
      expect((await refresh(tokens.body.refresh_token, 'other-app')).body.error).toBe('invalid_grant');
      const wrongSecret = await form(`${node.url}/oauth/token`, { grant_type: 'client_credentials' }, clientBasic(resourceServer.clientId, 'wrong-secret'));
      expect(wrongSecret.status).toBe(401);
      expect(wrongSecret.headers.get('www-authenticate')).toContain('Basic');
      expect(wrongSecret.body.error).toBe('invalid_client');
    });

    it('revocation: unknown tokens are fine (RFC 7009); a revoked access token is inactive; another client revokes nothing', async () => {
      expect((await form(`${node.url}/oauth/revoke`, { token: 'garbage', client_id: 'chat-app' })).status).toBe(200);
      const { tokens } = await codeFlow();
      // Another client cannot revoke chat-app's tokens.
      await form(`${node.url}/oauth/revoke`, { token: tokens.body.refresh_token, client_id: 'other-app' });
      await form(`${node.url}/oauth/revoke`, { token: tokens.body.access_token, client_id: 'other-app' });
      expect((await refresh(tokens.body.refresh_token)).status).toBe(200);
      expect((await introspect(node.url, resourceServer, tokens.body.access_token)).active).toBe(true);

      const revoked = await form(`${node.url}/oauth/revoke`, { token: tokens.body.access_token, token_type_hint: 'access_token', client_id: 'chat-app' });
      expect(revoked.status).toBe(200);
      expect(await introspect(node.url, resourceServer, tokens.body.access_token)).toEqual({ active: false });
      expect((await refresh(tokens.body.refresh_token)).status).toBe(200);
    });

    it('revoking a refresh token, or replaying its code, makes the access tokens it gave inactive', async () => {
      const { tokens } = await codeFlow();
      const refreshed = await refresh(tokens.body.refresh_token);
      await form(`${node.url}/oauth/revoke`, { token: tokens.body.refresh_token, client_id: 'chat-app' });
      for (const token of [tokens.body.access_token, refreshed.body.access_token]) {
        expect(await introspect(node.url, resourceServer, token)).toEqual({ active: false });
      }
      const replayed = await codeFlow();
      await form(`${node.url}/oauth/token`, { grant_type: 'authorization_code', code: replayed.code, redirect_uri: REDIRECT, code_verifier: replayed.verifier, client_id: 'chat-app' });
      expect(await introspect(node.url, resourceServer, replayed.tokens.body.access_token)).toEqual({ active: false });
    });
  });
});
