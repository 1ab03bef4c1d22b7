import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { KAFKA_BROKERS, createDatabase, uniqueName, waitFor } from '../support/infra';
import { runAuthz } from '../support/cli';
import { form, introspect, postSignIn, serviceClient } from '../support/oauth';
import { api, basic, startNode, type Node } from '../support/processes';

const REDIRECT = 'https://app.example/callback';
const PASSWORD = 'token-admin-password';

/**
 * refreshtokendetails, the audit history and admin revocation (seed S11, S12) on a cluster of
 * two servers that do not project: the revocation must hold before any projection saw the
 * tokens. A projector started later builds the read models.
 */
describe('refresh-token admin: refreshtokendetails, audit, revocation by user and client', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let sql: pg.Client;
  let a: Node;
  let b: Node;
  let projector: Node | undefined;
  const prefix = uniqueName('tokadm');
  const admin = basic('admin', PASSWORD);
  const env = () => ({
    AUTHZ_DATABASE_URL: database.url,
    AUTHZ_KAFKA_BROKERS: KAFKA_BROKERS,
    AUTHZ_KAFKA_TOPIC_PREFIX: prefix,
    AUTHZ_ADMIN_USER: 'admin',
    AUTHZ_ADMIN_PASSWORD: PASSWORD,
    AUTHZ_KEK: kek,
  });
  const kek = randomBytes(32).toString('base64');

  beforeAll(async () => {
    database = await createDatabase('authz_tokadm');
    a = await startNode('server', { ...env(), AUTHZ_NODE_ID: 'node-a' });
    b = await startNode('server', { ...env(), AUTHZ_NODE_ID: 'node-b' });
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    // No projection runs yet: parameters are read from their projection, so write the one the code flow needs by hand... no:
    // the code flow is switched on through the API and a projector; it is stopped again before the tokens are issued.
    projector = await startNode('projector', { ...env(), AUTHZ_NODE_ID: 'projector-1' });
    expect((await api(`${a.url}/admin/parameters`, { method: 'PUT', auth: admin, body: { oauthWithRefreshLoginFlow: 'Enabled' } })).status).toBe(200);
    for (const userId of ['dave', 'erin']) {
      expect((await api(`${a.url}/admin/users`, { method: 'POST', auth: admin, body: { userId, password: `${userId}-password`, roles: [] } })).status).toBe(201);
    }
    for (const clientId of ['phone', 'desk']) {
      const client = await api(`${a.url}/admin/clients`, {
        method: 'POST',
        auth: admin,
        body: { clientId, clientName: clientId, type: 'public', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'] },
      });
      expect(client.status).toBe(201);
    }
    for (const node of [a, b]) {
      await waitFor(async () => (await api(`${node.url}/.well-known/oauth-authorization-server`)).body.response_types_supported?.includes('code'), 30_000, 'code flow on');
    }
    introspector = await serviceClient(a.url, admin, 'introspector');
    await projector.stop();
    projector = undefined;
  });

  afterAll(async () => {
    await sql?.end();
    await Promise.all([a?.stop(), b?.stop(), projector?.stop()]);
    await database?.drop();
  });

  const accessTokens: Record<string, string> = {};
  let introspector: { clientId: string; clientSecret: string };

  async function login(node: Node, userId: string, clientId: string): Promise<string> {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const params = { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' };
    const posted = await postSignIn(node.url, params, userId, `${userId}-password`);
    const code = new URL(posted.headers.get('location')!).searchParams.get('code')!;
    const tokens = await form(`${node.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: clientId });
    expect(tokens.status).toBe(200);
    accessTokens[tokens.body.refresh_token] = tokens.body.access_token;
    return tokens.body.refresh_token;
  }

  const refresh = (node: Node, token: string, clientId: string) => form(`${node.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: token, client_id: clientId });
  const projectedRows = async () => Number((await sql.query('SELECT count(*) FROM refreshtokendetails')).rows[0].count);
  const tokens: Record<string, string> = {};

  it('revokes by user and client through the seed path: issued-before tokens fail at once on the other node, unprojected as they are', async () => {
    tokens.phone1 = await login(a, 'dave', 'phone');
    tokens.phone2 = await login(a, 'dave', 'phone');
    tokens.desk = await login(a, 'dave', 'desk');
    tokens.erin = await login(a, 'erin', 'phone');
    expect(await projectedRows()).toBe(0);

    const revoked = await api(`${b.url}/ssosp/token/revoke?user_id=dave&client_id=phone`, { method: 'POST', auth: admin });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ userId: 'dave', clientId: 'phone', revoked: 2 });

    for (const node of [b, a]) {
      for (const token of [tokens.phone1, tokens.phone2]) {
        const answer = await refresh(node, token, 'phone');
        expect(answer.status).toBe(400);
        expect(answer.body).toEqual({ error: 'invalid_grant', error_description: 'the refresh token was revoked' });
      }
    }
    expect((await refresh(b, tokens.desk, 'desk')).status).toBe(200);
    expect((await refresh(b, tokens.erin, 'phone')).status).toBe(200);
    // Access tokens stay valid where they are validated locally; introspection knows better.
    expect((await introspect(a.url, introspector, accessTokens[tokens.phone1])).active).toBe(false);
    expect((await introspect(a.url, introspector, accessTokens[tokens.desk])).active).toBe(true);
    expect((await introspect(b.url, introspector, accessTokens[tokens.erin])).active).toBe(true);
    // Issued after the revocation: works.
    tokens.phone3 = await login(b, 'dave', 'phone');
    expect((await refresh(a, tokens.phone3, 'phone')).status).toBe(200);
    expect(await projectedRows()).toBe(0);
  });

  it('revokes every token of a user, on every client, and answers how many', async () => {
    const all = await api(`${a.url}/admin/refresh-tokens/revoke`, { method: 'POST', auth: admin, body: { userId: 'dave' } });
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ userId: 'dave', clientId: null, revoked: 2 });
    expect((await refresh(b, tokens.desk, 'desk')).status).toBe(400);
    expect((await refresh(b, tokens.phone3, 'phone')).status).toBe(400);
    expect((await refresh(a, tokens.erin, 'phone')).status).toBe(200);
    // Nothing left to revoke: zero, and still an answer.
    const again = await api(`${b.url}/ssosp/token/revoke?user_id=dave`, { method: 'POST', auth: admin });
    expect(again.body.revoked).toBe(0);
  });

  it('projects every token event into refreshtokendetails and the audit history once a projector runs', async () => {
    projector = await startNode('projector', { ...env(), AUTHZ_NODE_ID: 'projector-2' });
    const rowsOf = async (table: string, where = '') => Number((await sql.query(`SELECT count(*) FROM ${table} ${where}`)).rows[0].count);
    await waitFor(async () => (await rowsOf('audit_events')) === (await rowsOf('events')), 60_000, 'audit caught up');
    const issued = await rowsOf('events', `WHERE type = 'TokenIssued' AND data->'refreshToken' IS NOT NULL`);
    await waitFor(async () => (await projectedRows()) === issued, 30_000, 'refreshtokendetails caught up');
    // Grants and admin revocations are different topics, consumed side by side: either may be projected first.
    const revocationEvents = await rowsOf('events', `WHERE type = 'RefreshTokensRevoked'`);
    await waitFor(async () => (await rowsOf('refresh_token_revocations')) === revocationEvents, 30_000, 'admin revocations projected');

    const dave = await api(`${a.url}/admin/refresh-tokens?user_id=dave`, { auth: admin });
    expect(dave.status).toBe(200);
    expect(dave.body.tokens).toHaveLength(4);
    for (const row of dave.body.tokens) {
      expect(row).toMatchObject({ userid: 'dave', state: 'revoked', revokedReason: 'admin', grantType: 'authorization_code' });
      expect(row.refreshtokenindex).toMatch(/^[A-Za-z0-9_-]{43}$|^[0-9a-f]{64}$/);
      expect(new Date(row.validity).getTime()).toBeGreaterThan(Date.now());
    }
    // The index is the token's hash, never the token.
    const stored = JSON.stringify((await sql.query('SELECT * FROM refreshtokendetails')).rows);
    for (const token of Object.values(tokens)) expect(stored).not.toContain(token);

    const erin = await api(`${b.url}/admin/refresh-tokens?user_id=erin&client_id=phone&state=active`, { auth: admin });
    expect(erin.body.tokens).toHaveLength(1);
    expect(erin.body.tokens[0].lastUsedAt).not.toBeNull();

    const revocations = await api(`${a.url}/admin/audit?type=RefreshTokensRevoked`, { auth: admin });
    expect(revocations.body.events.map((e: { actor: string; summary: string }) => [e.actor, e.summary])).toEqual([
      ['user:admin', 'admin revoked 0 refresh tokens of user dave on every client'],
      ['user:admin', 'admin revoked 2 refresh tokens of user dave on every client'],
      ['user:admin', 'admin revoked 2 refresh tokens of user dave on client phone'],
    ]);
    const daveHistory = await api(`${a.url}/admin/audit?user_id=dave&type=SignInSucceeded`, { auth: admin });
    expect(daveHistory.body.events).toHaveLength(4);
  });

  it('pages refresh tokens and audit events with cursors that neither skip nor repeat, even while events are written', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { tokens: { pkid: string }[]; nextCursor: string | null } } = await api(
        `${a.url}/admin/refresh-tokens?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { auth: admin },
      );
      seen.push(...page.body.tokens.map((t) => t.pkid));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(await projectedRows());
    expect(new Set(seen).size).toBe(seen.length);

    const all = (await api(`${a.url}/admin/audit?limit=500`, { auth: admin })).body.events.map((e: { seq: number }) => e.seq);
    const walked: number[] = [];
    cursor = null;
    let pages = 0;
    do {
      const page: { body: { events: { seq: number }[]; nextCursor: string | null } } = await api(`${a.url}/admin/audit?limit=7${cursor ? `&cursor=${cursor}` : ''}`, { auth: admin });
      walked.push(...page.body.events.map((e) => e.seq));
      cursor = page.body.nextCursor;
      // New events arrive at the top while the pages are read: none may shift the walk.
      if (pages++ < 3) await login(a, 'erin', 'desk');
    } while (cursor);
    expect(walked.slice(walked.indexOf(all[0]))).toEqual(all);
    expect(new Set(walked).size).toBe(walked.length);
  });

  it('revokes a user with 10,000 refresh tokens in one call', async () => {
    const base = Number((await sql.query('SELECT coalesce(max(position), 0) AS p FROM events')).rows[0].p);
    const expires = new Date(Date.now() + 86_400_000).toISOString();
    await sql.query(
      `WITH inserted AS (
         INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, occurred_at, node_id, correlation_id, actor, data)
         SELECT gen_random_uuid(), 'grant-bulk-' || i, 1, 'TokenIssued', 1, now(), 'bulk-loader', 'bulk', 'client:phone',
                jsonb_build_object('grantType', 'authorization_code', 'clientId', 'phone', 'userId', 'bulk', 'scope', '',
                  'accessToken', jsonb_build_object('jti', 'jti-bulk-' || i, 'expiresAt', $1::text),
                  'refreshToken', jsonb_build_object('tid', 'bulk-' || i, 'hash', md5(i::text), 'expiresAt', $1::text))
           FROM generate_series(1, 10000) AS i
         RETURNING position)
       INSERT INTO outbox (position) SELECT position FROM inserted`,
      [expires],
    );
    const started = Date.now();
    const answer = await api(`${b.url}/ssosp/token/revoke?user_id=bulk`, { method: 'POST', auth: admin });
    expect(answer.status).toBe(200);
    expect(answer.body.revoked).toBe(10_000);
    expect(Date.now() - started).toBeLessThan(60_000);
    await waitFor(async () => {
      const left = await api(`${a.url}/admin/refresh-tokens?user_id=bulk&state=active&limit=1`, { auth: admin });
      const revoked = await sql.query(`SELECT count(*) FROM refreshtokendetails WHERE userid = 'bulk' AND state = 'revoked'`);
      return left.status === 200 && left.body.tokens.length === 0 && Number(revoked.rows[0].count) === 10_000;
    }, 120_000, '10,000 rows revoked in the projection');
    expect(base).toBeGreaterThan(0);
  });

  describe('bad admin input: a clear 4xx, never a 500, nothing leaked', () => {
    const cases: [string, string, string | undefined, number, string][] = [
      ['a forged cursor', 'GET', '/admin/refresh-tokens?cursor=OR%201%3D1', 400, 'INVALID_CURSOR'],
      ['a cursor of the wrong shape', 'GET', '/admin/audit?cursor=c1.-5', 400, 'INVALID_CURSOR'],
      ['a huge limit', 'GET', '/admin/refresh-tokens?limit=100000000', 400, 'INVALID_LIMIT'],
      ['a zero limit', 'GET', '/admin/audit?limit=0', 400, 'INVALID_LIMIT'],
      ['a SQL-looking user filter', 'GET', `/admin/refresh-tokens?user_id=${encodeURIComponent("x' OR '1'='1")}`, 400, 'INVALID_USER_ID'],
      ['a SQL-looking client filter', 'GET', `/admin/audit?client_id=${encodeURIComponent('a;DROP TABLE events')}`, 400, 'INVALID_CLIENT_ID'],
      ['a repeated parameter', 'GET', '/admin/refresh-tokens?user_id=dave&user_id=erin', 400, 'INVALID_PARAMETER'],
      ['an unknown state', 'GET', '/admin/refresh-tokens?state=zombie', 400, 'INVALID_STATE'],
      ['an unknown event type', 'GET', '/admin/audit?type=Nope', 400, 'INVALID_TYPE'],
      ['a date that is not one', 'GET', '/admin/audit?since=yesterday', 400, 'INVALID_DATE'],
      ['a reversed range', 'GET', '/admin/audit?since=2026-02-01&until=2026-01-01', 400, 'INVALID_RANGE'],
      ['an unknown user', 'GET', '/admin/refresh-tokens?user_id=nobody', 404, 'UNKNOWN_USER'],
      ['revoking an unknown user', 'POST', '/ssosp/token/revoke?user_id=nobody', 404, 'UNKNOWN_USER'],
      ['revoking without user_id', 'POST', '/ssosp/token/revoke?client_id=phone', 400, 'USER_ID_REQUIRED'],
      ['revoking a malformed client', 'POST', `/ssosp/token/revoke?user_id=dave&client_id=${'x'.repeat(300)}`, 400, 'INVALID_CLIENT_ID'],
    ];

    it.each(cases)('%s', async (_what, method, path, status, code) => {
      const answer = await api(`${a.url}${path}`, { method, auth: admin });
      expect(answer.status).toBe(status);
      expect(answer.body.code).toBe(code);
      expect(answer.body.error_description).toEqual(expect.any(String));
      expect(JSON.stringify(answer.body)).not.toMatch(/\bat .+:\d+:\d+|SELECT|refreshtokendetails/);
    });

    it.each([
      ['an array', [{ userId: 'dave' }], 'BODY_NOT_AN_OBJECT'],
      ['an unknown field', { userId: 'dave', everything: true }, 'UNKNOWN_FIELDS'],
      ['no user', { clientId: 'phone' }, 'INVALID_USER_ID'],
      ['a user of the wrong type', { userId: 42 }, 'INVALID_USER_ID'],
    ])('POST /admin/refresh-tokens/revoke with %s', async (_what, body, code) => {
      const answer = await api(`${a.url}/admin/refresh-tokens/revoke`, { method: 'POST', auth: admin, body });
      expect(answer.status).toBe(400);
      expect(answer.body.code).toBe(code);
    });

    it('asks for admin credentials, and refuses an account without the role', async () => {
      expect((await api(`${a.url}/ssosp/token/revoke?user_id=dave`, { method: 'POST' })).status).toBe(401);
      expect((await api(`${a.url}/admin/audit`)).status).toBe(401);
      expect((await api(`${a.url}/admin/refresh-tokens`, { auth: basic('dave', 'dave-password') })).status).toBe(403);
    });

    it('left no event behind for a refused revocation', async () => {
      const streams = (await sql.query(`SELECT DISTINCT stream_id FROM events WHERE type = 'RefreshTokensRevoked'`)).rows.map((r) => r.stream_id);
      expect(streams.sort()).toEqual(['revocation-bulk', 'revocation-dave']);
    });
  });

  describe('the authz CLI, as an operator runs it', () => {
    const authz = (args: string[]) => runAuthz(args, { env: { AUTHZ_URL: b.url, AUTHZ_ADMIN_USER: 'admin', AUTHZ_ADMIN_PASSWORD: PASSWORD } });

    it('tokens list: the seed\'s columns, validity as a UTC date', async () => {
      const run = await authz(['tokens', 'list', '--user', 'dave', '--client', 'phone']);
      expect(run.code).toBe(0);
      const [header, , ...rows] = run.stdout.trim().split('\n');
      expect(header).toMatch(/^pkid\s+refreshtokenindex\s+userid\s+clientid\s+validity \(UTC\)\s+state/);
      expect(rows).toHaveLength(3);
      for (const row of rows) expect(row).toMatch(/ dave +phone +\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} +revoked /);
      const json = JSON.parse((await authz(['tokens', 'list', '--user', 'erin', '--json'])).stdout);
      expect(json.map((t: { clientid: string }) => t.clientid).sort()).toEqual(['desk', 'desk', 'desk', 'phone']);
    });

    it('tokens revoke: needs --yes without a terminal; then revokes and says how many', async () => {
      const refusedRun = await authz(['tokens', 'revoke', '--user', 'erin', '--client', 'phone']);
      expect(refusedRun.code).toBe(2);
      expect(refusedRun.stderr).toContain('--yes');
      expect((await refresh(a, tokens.erin, 'phone')).status).toBe(200);

      const run = await authz(['tokens', 'revoke', '--user', 'erin', '--client', 'phone', '--yes']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Revoked 1 refresh token of user "erin" on client "phone" \(at \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\)\.\n$/);
      expect((await refresh(a, tokens.erin, 'phone')).status).toBe(400);
    });

    it('audit: who revoked what, newest first', async () => {
      await waitFor(async () => (await authz(['audit', '--user', 'erin', '--type', 'RefreshTokensRevoked'])).stdout.includes('user:admin'), 30_000, 'revocation in the audit');
      const run = await authz(['audit', '--user', 'erin', '--type', 'RefreshTokensRevoked']);
      expect(run.stdout).toMatch(/RefreshTokensRevoked +user:admin +admin revoked 1 refresh token of user erin on client phone/);
    });

    it('replay all from position 0 (authz replay all): the same refresh tokens and the same audit history', async () => {
      const everything = async () => {
        const tokensNow: unknown[] = [];
        const auditNow: { seq?: number; position: number; type: string }[] = [];
        for (const [path, field, into] of [['admin/refresh-tokens', 'tokens', tokensNow], ['admin/audit', 'events', auditNow]] as const) {
          let cursor: string | null = null;
          do {
            const page: { body: Record<string, unknown> & { nextCursor: string | null } } = await api(`${a.url}/${path}?limit=500${cursor ? `&cursor=${cursor}` : ''}`, { auth: admin });
            (into as unknown[]).push(...(page.body[field] as unknown[]));
            cursor = page.body.nextCursor;
          } while (cursor);
        }
        // The audit's sequence numbers are its commit order, renumbered by a rebuild: compare the entries.
        const audit = auditNow.map(({ seq: _seq, ...entry }) => entry).sort((x, y) => x.position - y.position);
        return { tokens: tokensNow, audit };
      };
      const outboxEmpty = async () => Number((await sql.query('SELECT count(*) AS n FROM outbox')).rows[0].n) === 0;
      await waitFor(outboxEmpty, 30_000, 'the outbox drained');
      const eventCount = Number((await sql.query('SELECT count(*) AS n FROM events')).rows[0].n);
      const before = await waitFor(async () => {
        const now = await everything();
        return now.audit.length === eventCount && now;
      }, 60_000, 'the audit caught up');

      const run = await authz(['replay', 'all']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/refreshtokendetails\s+[\d,]+ events applied/);
      const after = await everything();
      expect(after.tokens).toEqual(before.tokens);
      // The replay's own ProjectionReplayed events come on top (newest, once the audit saw them).
      expect(after.audit.slice(0, before.audit.length)).toEqual(before.audit);
      expect(after.audit.slice(before.audit.length).every((e) => e.type === 'ProjectionReplayed')).toBe(true);
    });

    it('bad input: the server\'s message and exit 1; an unknown user too; no stack trace', async () => {
      const bad = await authz(['tokens', 'list', '--user', "x' OR 1=1"]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('userId must be 1–128 characters');
      const unknown = await authz(['tokens', 'revoke', '--user', 'nobody', '--yes']);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('no refresh token was ever issued to user "nobody"');
      expect((await authz(['audit', '--limit', '0'])).code).toBe(2);
      for (const run of [bad, unknown]) expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    });
  });
});
