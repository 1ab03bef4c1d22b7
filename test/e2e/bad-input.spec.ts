import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { submitLoginForm } from '../support/browser';
import { clientBasic, clientCredentialsToken, form, postSignIn, serviceClient } from '../support/oauth';
import { api, basic, startNode, type Node } from '../support/processes';

/**
 * Bad input gets the RFC error (`error`, `error_description`, and a stable `code` where this
 * server has one), never a 500 or a stack trace: body-less POSTs, oversize and malformed tokens
 * at the token endpoints, NUL characters and impossible dates, re-spelled tokens, and end users
 * without a role. Against a real server process.
 */

interface Server {
  url: string;
  /** `Authorization: Basic …` of the admin account. */
  admin: string;
  /** Everything the processes printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * The server under test: one embedded node (PGlite, in-process events), as `npm start` runs
 * it. Everything below talks to it through `url` and `admin` only, so that a cluster (nodes
 * behind the same handle) can be put in here later.
 */
async function startServer(): Promise<Server> {
  const dataDir = mkdtempSync(join(tmpdir(), 'authz-bad-input-'));
  const node: Node = await startNode('server', { AUTHZ_DATA_DIR: dataDir, AUTHZ_NODE_ID: 'bad-input' });
  const admin = basic('admin', readFileSync(join(dataDir, 'admin-password'), 'utf8').trim());
  return { url: node.url, admin, output: node.output, stop: () => node.stop() };
}

const REDIRECT = 'https://app.example/callback';
const NO_STACK = /\n\s+at .+:\d+:\d+/;

/** An RFC-style error: 400 (unless said), `error`, a description, the code if given, no stack trace. */
function expectError(response: { status: number; body: any }, status: number, error: string, code?: string): void {
  expect({ status: response.status, error: response.body?.error }).toEqual({ status, error });
  expect(typeof response.body.error_description).toBe('string');
  expect(JSON.stringify(response.body)).not.toMatch(NO_STACK);
  if (code) expect(response.body.code).toBe(code);
}

describe('bad input', () => {
  let server: Server;
  let resourceServer: { clientId: string; clientSecret: string };

  /** Signs alice in at /oauth/authorize (code flow, PKCE) and redeems the code: her tokens. */
  async function aliceTokens(): Promise<{ access_token: string; refresh_token: string }> {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const params = { response_type: 'code', client_id: 'chat-app', redirect_uri: REDIRECT, state: 's', code_challenge: challenge, code_challenge_method: 'S256' };
    const signedIn = await postSignIn(server.url, params, 'alice', 'alice-password');
    expect(signedIn.status).toBe(302);
    const code = new URL(signedIn.headers.get('location')!).searchParams.get('code')!;
    const tokens = await form(`${server.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: 'chat-app' });
    expect(tokens.status).toBe(200);
    return tokens.body;
  }

  beforeAll(async () => {
    server = await startServer();
    resourceServer = await serviceClient(server.url, server.admin, 'resource-server');
    const flow = await api(`${server.url}/admin/parameters`, { method: 'PUT', auth: server.admin, body: { oauthWithRefreshLoginFlow: 'Enabled' } });
    expect(flow.status).toBe(200);
    const app = await api(`${server.url}/admin/clients`, {
      method: 'POST',
      auth: server.admin,
      body: { clientId: 'chat-app', clientName: 'Chat', type: 'public', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'], scope: 'chat' },
    });
    expect(app.status).toBe(201);
  });

  afterAll(async () => {
    // Whatever was sent, the server never had an error it did not handle.
    if (server) expect(server.output()).not.toContain('unhandled error');
    await server?.stop();
  });

  describe('end users: accounts without a role (item 6)', () => {
    it('POST /admin/users without roles, or with roles [], creates an end user', async () => {
      const none = await api(`${server.url}/admin/users`, { method: 'POST', auth: server.admin, body: { userId: 'alice', password: 'alice-password' } });
      expect(none).toMatchObject({ status: 201, body: { userId: 'alice', roles: [] } });
      const empty = await api(`${server.url}/admin/users`, { method: 'POST', auth: server.admin, body: { userId: 'bob', password: 'bob-password', roles: [] } });
      expect(empty).toMatchObject({ status: 201, body: { userId: 'bob', roles: [] } });
    });

    it('an end user signs in at /oauth/authorize and gets tokens for the client', async () => {
      const tokens = await aliceTokens();
      const introspected = await form(`${server.url}/oauth/introspect`, { token: tokens.access_token }, clientBasic(resourceServer.clientId, resourceServer.clientSecret));
      expect(introspected.body).toMatchObject({ active: true, sub: 'alice', client_id: 'chat-app' });
    });

    it('an end user has no admin and no key-reader rights: 403', async () => {
      for (const auth of [basic('alice', 'alice-password'), basic('bob', 'bob-password')]) {
        expectError(await api(`${server.url}/admin/parameters`, { auth }), 403, 'access_denied');
        expectError(await api(`${server.url}/admin/users`, { method: 'POST', auth, body: { userId: 'eve', password: 'eve-password', roles: ['admin'] } }), 403, 'access_denied');
        expectError(await api(`${server.url}/oauth/keys`, { auth }), 403, 'access_denied');
      }
    });

    it('roles that are not a list of known roles are still refused', async () => {
      for (const roles of [['root'], 'admin', [null]]) {
        const response = await api(`${server.url}/admin/users`, { method: 'POST', auth: server.admin, body: { userId: 'carol', password: 'carol-password', roles } });
        expectError(response, 400, 'invalid_request', 'INVALID_ROLES');
      }
    });
  });

  describe('a POST with the JSON content type and an empty body is a POST without a body (item 1)', () => {
  /** A POST as a body-less client sends it: the JSON content type, and nothing after it (Content-Length: 0). */
  async function emptyJsonPost(url: string, auth: string): Promise<{ status: number; body: any }> {
    const response = await fetch(url, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: '' });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // keep the text
    }
    return { status: response.status, body };
  }

    it('POST /admin/keys/signing/regenerate and …/encryption/regenerate regenerate the key', async () => {
      for (const kind of ['signing', 'encryption']) {
        const before = (await api(`${server.url}/admin/keys`, { auth: server.admin })).body[kind].fingerprint;
        const response = await emptyJsonPost(`${server.url}/admin/keys/${kind}/regenerate`, server.admin);
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({ kind, revokeRefreshTokens: false });
        expect(response.body.fingerprint).not.toBe(before);
      }
    });

    it('POST /ssosp/token/revoke?user_id=… revokes the user\'s refresh tokens', async () => {
      const { refresh_token } = await aliceTokens();
      const response = await emptyJsonPost(`${server.url}/ssosp/token/revoke?user_id=alice`, server.admin);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ userId: 'alice', clientId: null });
      expect(response.body.revoked).toBeGreaterThanOrEqual(1);
      const refused = await form(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token, client_id: 'chat-app' });
      expectError(refused, 400, 'invalid_grant');
    });

    it('POST /admin/purge purges with the defaults', async () => {
      const response = await emptyJsonPost(`${server.url}/admin/purge`, server.admin);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ count: expect.any(Number), capped: false });
    });

    it.each([
      ['/admin/users', 'USER_NOT_AN_OBJECT'],
      ['/admin/clients', 'CLIENT_NOT_AN_OBJECT'],
      ['/admin/refresh-tokens/revoke', 'BODY_NOT_AN_OBJECT'],
      ['/admin/replay', 'INVALID_REPLAY'],
    ])('POST %s, whose body is not optional, refuses the missing body with its own 400', async (path, code) => {
      expectError(await emptyJsonPost(`${server.url}${path}`, server.admin), 400, 'invalid_request', code);
    });

    it.each([
      ['malformed JSON', '{"maxRows": '],
      ['only white space', ' '],
      ['a bare string', '"x"'],
    ])('a non-empty body that is not a JSON object (%s) is still 400 invalid_request', async (_, rawBody) => {
      for (const path of ['/admin/purge', '/admin/keys/encryption/regenerate']) {
        const response = await api(`${server.url}${path}`, { method: 'POST', auth: server.admin, rawBody });
        expectError(response, 400, 'invalid_request');
        expect(response.body.error_description).toMatch(/not valid JSON/);
      }
    });
  });

  describe('/oauth/introspect answers {"active": false} for any token it cannot validate (item 2)', () => {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

    let valid: string;
    const introspect = (token: string, auth = clientBasic(resourceServer.clientId, resourceServer.clientSecret)) =>
      form(`${server.url}/oauth/introspect`, { token }, auth);

    beforeAll(async () => {
      valid = await clientCredentialsToken(server.url, resourceServer);
    });

    it('a valid token is active (the control)', async () => {
      expect((await introspect(valid)).body).toMatchObject({ active: true, client_id: 'resource-server' });
    });

    it.each([
      ['garbage', () => 'garbage'],
      ['9,000 characters (past the 8 KiB of other parameters)', () => 'a'.repeat(9_000)],
      ['17,000 characters (past the longest token read)', () => `${valid}.${'A'.repeat(17_000)}`],
      ['100,000 characters (past the 64 KiB body limit of other endpoints)', () => 'a'.repeat(100_000)],
      ['1,000,000 characters', () => 'a'.repeat(1_000_000)],
      ['alg none', () => `${b64({ alg: 'none', typ: 'JWT', kid: JSON.parse(Buffer.from(valid.split('.')[0], 'base64url').toString()).kid })}.${valid.split('.')[1]}.`],
      ['alg HS256', () => `${b64({ alg: 'HS256', typ: 'JWT', kid: JSON.parse(Buffer.from(valid.split('.')[0], 'base64url').toString()).kid })}.${valid.split('.').slice(1).join('.')}`],
      ['an unknown kid', () => `${b64({ alg: 'RS256', typ: 'JWT', kid: `other-cluster:${'0'.repeat(64)}` })}.${valid.split('.').slice(1).join('.')}`],
      ['a cut signature', () => valid.slice(0, -10)],
      ['a NUL-free non-ASCII token', () => `${valid.slice(0, 20)}é${valid.slice(21)}`],
    ])('%s → 200 {"active": false}', async (_, token) => {
      const response = await introspect(token());
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ active: false });
    });

    it('an oversize token is inactive at /oauth/revoke too: 200, nothing to revoke', async () => {
      const response = await form(`${server.url}/oauth/revoke`, { token: 'a'.repeat(100_000) }, clientBasic(resourceServer.clientId, resourceServer.clientSecret));
      expect(response.status).toBe(200);
    });

    it('a body past the token endpoints\' 1 MiB limit is 413 invalid_request', async () => {
      expectError(await introspect('a'.repeat(1024 * 1024 + 1)), 413, 'invalid_request');
    });

    it('other endpoints keep their 64 KiB body limit', async () => {
      expectError(await form(`${server.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'a'.repeat(100_000) }, clientBasic(resourceServer.clientId, resourceServer.clientSecret)), 413, 'invalid_request');
    });

    it('a missing token or a failed client authentication are still errors', async () => {
      expectError(await form(`${server.url}/oauth/introspect`, {}, clientBasic(resourceServer.clientId, resourceServer.clientSecret)), 400, 'invalid_request');
      expectError(await introspect('a'.repeat(100_000), clientBasic(resourceServer.clientId, 'wrong-secret')), 401, 'invalid_client');
      expectError(await introspect(valid, clientBasic('nobody', 'wrong-secret')), 401, 'invalid_client');
    });
  });

  describe('a NUL character or an impossible date is a 400, not a 500 (item 3)', () => {
    const NUL = '\u0000';

    it('in client_id at the token endpoint: in the form, or in HTTP Basic (raw or %00)', async () => {
      expectError(await form(`${server.url}/oauth/token`, { grant_type: 'client_credentials', client_id: `a${NUL}b`, client_secret: 'x' }), 400, 'invalid_request', 'NUL_CHARACTER');
      expectError(await form(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: 'x', client_id: `chat-app${NUL}` }), 400, 'invalid_request', 'NUL_CHARACTER');
      const raw = `Basic ${Buffer.from(`a${NUL}b:secret`).toString('base64')}`;
      expectError(await form(`${server.url}/oauth/token`, { grant_type: 'client_credentials' }, raw), 400, 'invalid_request', 'NUL_CHARACTER');
      expectError(await form(`${server.url}/oauth/token`, { grant_type: 'client_credentials' }, clientBasic(`a${NUL}b`, 'secret')), 400, 'invalid_request', 'NUL_CHARACTER');
      expectError(await form(`${server.url}/oauth/introspect`, { token: 'x' }, clientBasic(resourceServer.clientId, `s${NUL}`)), 400, 'invalid_request', 'NUL_CHARACTER');
    });

    it('in client_id at /oauth/authorize', async () => {
      const response = await fetch(`${server.url}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: `chat-app${NUL}`, redirect_uri: REDIRECT })}`, { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(await response.text()).not.toMatch(NO_STACK);
    });

    it('in the username or the password of the sign-in form', async () => {
      const url = new URL(`${server.url}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: 'chat-app', redirect_uri: REDIRECT, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })}`);
      for (const typed of [{ username: `alice${NUL}`, password: 'alice-password' }, { username: 'alice', password: `alice-password${NUL}` }]) {
        const { response } = await submitLoginForm(url, typed);
        const text = await response.text();
        expect(response.status).toBe(400);
        expect(JSON.parse(text)).toMatchObject({ error: 'invalid_request', code: 'NUL_CHARACTER' });
      }
    });

    it('in the admin\'s HTTP Basic credentials', async () => {
      for (const [user, password] of [[`ad${NUL}min`, 'x'], ['admin', `x${NUL}`]]) {
        expectError(await api(`${server.url}/admin/parameters`, { auth: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` }), 400, 'invalid_request', 'NUL_CHARACTER');
      }
    });

    it.each([
      ['POST', '/admin/users', { userId: `eve${NUL}`, password: 'eve-password' }],
      ['POST', '/admin/users', { userId: 'eve', password: `eve-pass${NUL}word` }],
      ['POST', '/admin/users', { userId: 'eve', password: 'eve-password', roles: [`admin${NUL}`] }],
      ['POST', '/admin/clients', { clientName: `Chat${NUL}`, type: 'confidential' }],
      ['POST', '/admin/clients', { clientId: `c${NUL}`, clientName: 'Chat', type: 'confidential' }],
      ['POST', '/admin/clients', { clientName: 'Chat', type: 'public', redirectUris: [`https://app.example/${NUL}`] }],
      ['PUT', '/admin/parameters', { oauthWithRefreshLoginFlow: `Enabled${NUL}` }],
      ['PUT', '/admin/parameters', { [`tokenColour${NUL}`]: 'blue' }],
      ['POST', '/admin/refresh-tokens/revoke', { userId: `alice${NUL}` }],
      ['POST', '/admin/replay', { projection: `all${NUL}` }],
      ['POST', '/admin/purge', { nested: { deeper: [`x${NUL}`] } }],
    ])('in a JSON string of %s %s', async (method, path, body) => {
      expectError(await api(`${server.url}${path}`, { method, auth: server.admin, body }), 400, 'invalid_request', 'NUL_CHARACTER');
    });

    it.each([
      ['/admin/audit?user_id=a%00b'],
      ['/admin/audit?client_id=a%00b'],
      ['/admin/audit?type=TokenIssued%00'],
      ['/admin/refresh-tokens?user_id=a%00b'],
      ['/admin/refresh-tokens?cursor=%00'],
      ['/admin/replay/a%00b'],
    ])('in the query or the path: GET %s', async (path) => {
      expectError(await api(`${server.url}${path}`, { auth: server.admin }), 400, 'invalid_request', 'NUL_CHARACTER');
    });

    it('in the query of POST /ssosp/token/revoke', async () => {
      expectError(await api(`${server.url}/ssosp/token/revoke?user_id=alice%00`, { method: 'POST', auth: server.admin }), 400, 'invalid_request', 'NUL_CHARACTER');
    });

    it.each([
      ['since=0000-01-01'],
      ['until=0000-01-01T00:00:00Z'],
      ['since=0001-01-01T00:30:00%2B01:00'],
      ['since=10000-01-01'],
      ['since=2026-02-30'],
      ['since=2025-02-29'],
      ['since=2026-13-01'],
      ['since=2026-01-01T24:00:00Z'],
      ['since=2026-01-01T23:60Z'],
      ['since=2026-01-01T00:00%2B24:00'],
      ['since=2026-01-01T10:00:00'],
      ['since=yesterday'],
      ['until=%2B275760-09-13'],
    ])('an unparseable or out-of-range date on /admin/audit: %s', async (query) => {
      expectError(await api(`${server.url}/admin/audit?${query}`, { auth: server.admin }), 400, 'invalid_request', 'INVALID_DATE');
    });

    it('dates it accepts still work: the first and last years, leap days, zones, fractions', async () => {
      for (const query of ['since=0001-01-01&until=9999-12-31', 'since=2024-02-29', 'since=2026-01-01T10:00:00.123456%2B01:00', 'until=2026-12-31T23:59:59Z']) {
        const response = await api(`${server.url}/admin/audit?${query}`, { auth: server.admin });
        expect({ query, status: response.status }).toEqual({ query, status: 200 });
      }
    });
  });

  describe('a token is refused in any spelling but its own (item 4)', () => {
  /** The token with its character at `index` replaced by U+0100 + that character (the same byte once masked to 8 bits). */
  function respelled(token: string, index: number): string {
    return token.slice(0, index) + String.fromCharCode(0x100 + token.charCodeAt(index)) + token.slice(index + 1);
  }

  /** An index in the middle of the payload segment of a compact JWS. */
  const payloadIndex = (token: string) => {
    const [header, payload] = token.split('.');
    return header.length + 1 + Math.floor(payload.length / 2);
  };

    it('introspect: the U+0100+c variant of a valid access token is inactive, the original active', async () => {
      const token = await clientCredentialsToken(server.url, resourceServer);
      const auth = clientBasic(resourceServer.clientId, resourceServer.clientSecret);
      for (const index of [5, payloadIndex(token), token.length - 3]) {
        expect((await form(`${server.url}/oauth/introspect`, { token: respelled(token, index) }, auth)).body).toEqual({ active: false });
      }
      expect((await form(`${server.url}/oauth/introspect`, { token }, auth)).body).toMatchObject({ active: true });
    });

    it('refresh_token grant: the variant of a refresh token is invalid_grant, the original still refreshes', async () => {
      const { refresh_token } = await aliceTokens();
      const variant = await form(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: respelled(refresh_token, payloadIndex(refresh_token)), client_id: 'chat-app' });
      expectError(variant, 400, 'invalid_grant');
      const original = await form(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token, client_id: 'chat-app' });
      expect(original.status).toBe(200);
    });

    it('revoke: the variant of a refresh token revokes nothing; the original still refreshes', async () => {
      const { refresh_token } = await aliceTokens();
      const revoked = await form(`${server.url}/oauth/revoke`, { token: respelled(refresh_token, payloadIndex(refresh_token)), client_id: 'chat-app' });
      expect(revoked.status).toBe(200);
      const original = await form(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token, client_id: 'chat-app' });
      expect(original.status).toBe(200);
    });
  });
});
