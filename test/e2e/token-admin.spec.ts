import { createHash, randomBytes } from 'node:crypto';
import { waitFor } from '../support/infra';
import { describeModes, modesFromEnv, startDeployment, type Deployment } from '../support/deployment';
import { form, introspect, postSignIn, serviceClient } from '../support/oauth';
import { api, basic, type Node } from '../support/processes';

const REDIRECT = 'https://app.example/callback';
const PASSWORD = 'token-admin-password';

/**
 * refreshtokendetails, the audit history and admin revocation (seed S11, S12), in both modes.
 * Cluster: two servers that do not project, the projector stopped before the tokens are
 * issued, so the revocation must hold before any projection saw the tokens; a projector
 * started later builds the read models. Embedded: the one node projects in-process, and its
 * admin revocation must answer at once and leave the node serving (it once hung the node for
 * good on its single database session). What is checked in the database directly is checked
 * in cluster mode only; embedded mode checks the same through the API.
 */
describeModes(modesFromEnv(), 'refresh-token admin: refreshtokendetails, audit, revocation by user and client (%s mode)', (mode) => {
  let d: Deployment;
  // d.a and d.b: a revocation on one, the refresh on "the other" (the same node in embedded mode).
  const cluster = mode === 'cluster';

  beforeAll(async () => {
    d = await startDeployment(mode, { name: 'tokadm', adminPassword: PASSWORD });
    expect((await api(`${d.a.url}/admin/parameters`, { method: 'PUT', auth: d.admin, body: { oauthWithRefreshLoginFlow: 'Enabled' } })).status).toBe(200);
    for (const userId of ['dave', 'erin']) {
      expect((await api(`${d.a.url}/admin/users`, { method: 'POST', auth: d.admin, body: { userId, password: `${userId}-password`, roles: [] } })).status).toBe(201);
    }
    for (const clientId of ['phone', 'desk']) {
      const client = await api(`${d.a.url}/admin/clients`, {
        method: 'POST',
        auth: d.admin,
        body: { clientId, clientName: clientId, type: 'public', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'] },
      });
      expect(client.status).toBe(201);
    }
    // The parameters are read from their projection: the projector switches the code flow on, and is stopped again before the tokens are issued.
    for (const node of d.nodes) {
      await waitFor(async () => (await api(`${node.url}/.well-known/oauth-authorization-server`)).body.response_types_supported?.includes('code'), 30_000, 'code flow on');
    }
    introspector = await serviceClient(d.a.url, d.admin, 'introspector');
    if (cluster) {
      await d.caughtUp();
      expect(await d.stopProjector()).toBe(true);
    }
  });

  afterAll(async () => {
    await d?.stop();
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
  /** Cluster mode: the rows of refreshtokendetails, read in PostgreSQL. */
  const projectedRows = async () => Number((await d.query('SELECT count(*) FROM refreshtokendetails'))[0].count);
  /** Every row of /admin/refresh-tokens (with a filter), through the API's pages. */
  async function listed(query = ''): Promise<{ pkid: string; state: string; [column: string]: unknown }[]> {
    const rows: { pkid: string; state: string }[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { tokens: { pkid: string; state: string }[]; nextCursor: string | null } } = await api(
        `${d.a.url}/admin/refresh-tokens?limit=500${query ? `&${query}` : ''}${cursor ? `&cursor=${cursor}` : ''}`,
        { auth: d.admin },
      );
      expect(page.status).toBe(200);
      rows.push(...page.body.tokens);
      cursor = page.body.nextCursor;
    } while (cursor);
    return rows;
  }
  /** A timed admin call: a revocation must answer at once, in embedded mode too (it once hung the node's one database session for good). */
  async function timed<T>(call: () => Promise<T>): Promise<T> {
    const started = Date.now();
    const answer = await call();
    // A hang detector, not a throughput figure: one request, a generous bound.
    expect(Date.now() - started).toBeLessThan(2_000);
    return answer;
  }
  /** The node still serves after a revocation: healthy, and a further admin request answers. */
  async function stillServing(node: Node) {
    expect((await api(`${node.url}/health`)).status).toBe(200);
    expect((await api(`${node.url}/health/live`)).status).toBe(200);
    expect((await api(`${node.url}/admin/parameters`, { auth: d.admin })).status).toBe(200);
  }
  const tokens: Record<string, string> = {};

  it('revokes by user and client through the seed path: issued-before tokens fail at once on the other node (cluster: unprojected as they are)', async () => {
    tokens.phone1 = await login(d.a, 'dave', 'phone');
    tokens.phone2 = await login(d.a, 'dave', 'phone');
    tokens.desk = await login(d.a, 'dave', 'desk');
    tokens.erin = await login(d.a, 'erin', 'phone');
    // Cluster: no projection has seen the tokens (the projector is stopped); embedded mode projects in-process.
    if (cluster) expect(await projectedRows()).toBe(0);

    const revoked = await timed(() => api(`${d.b.url}/ssosp/token/revoke?user_id=dave&client_id=phone`, { method: 'POST', auth: d.admin }));
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ userId: 'dave', clientId: 'phone', revoked: 2 });
    await stillServing(d.b);

    for (const node of [d.b, d.a]) {
      for (const token of [tokens.phone1, tokens.phone2]) {
        const answer = await refresh(node, token, 'phone');
        expect(answer.status).toBe(400);
        expect(answer.body).toEqual({ error: 'invalid_grant', error_description: 'the refresh token was revoked' });
      }
    }
    expect((await refresh(d.b, tokens.desk, 'desk')).status).toBe(200);
    expect((await refresh(d.b, tokens.erin, 'phone')).status).toBe(200);
    // Access tokens stay valid where they are validated locally; introspection knows better.
    expect((await introspect(d.a.url, introspector, accessTokens[tokens.phone1])).active).toBe(false);
    expect((await introspect(d.a.url, introspector, accessTokens[tokens.desk])).active).toBe(true);
    expect((await introspect(d.b.url, introspector, accessTokens[tokens.erin])).active).toBe(true);
    // Issued after the revocation: works.
    tokens.phone3 = await login(d.b, 'dave', 'phone');
    expect((await refresh(d.a, tokens.phone3, 'phone')).status).toBe(200);
    if (cluster) expect(await projectedRows()).toBe(0);
  });

  it('revokes every token of a user, on every client, and answers how many', async () => {
    const all = await timed(() => api(`${d.a.url}/admin/refresh-tokens/revoke`, { method: 'POST', auth: d.admin, body: { userId: 'dave' } }));
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ userId: 'dave', clientId: null, revoked: 2 });
    await stillServing(d.a);
    expect((await refresh(d.b, tokens.desk, 'desk')).status).toBe(400);
    expect((await refresh(d.b, tokens.phone3, 'phone')).status).toBe(400);
    expect((await refresh(d.a, tokens.erin, 'phone')).status).toBe(200);
    // Nothing left to revoke: zero, and still an answer.
    const again = await timed(() => api(`${d.b.url}/ssosp/token/revoke?user_id=dave`, { method: 'POST', auth: d.admin }));
    expect(again.body.revoked).toBe(0);
    await stillServing(d.b);
  });

  it(`projects every token event into refreshtokendetails and the audit history${cluster ? ' once a projector runs' : ''}`, async () => {
    if (cluster) {
      expect(await d.startProjector()).toBe(true);
      const rowsOf = async (table: string, where = '') => Number((await d.query(`SELECT count(*) FROM ${table} ${where}`))[0].count);
      await waitFor(async () => (await rowsOf('audit_events')) === (await rowsOf('events')), 60_000, 'audit caught up');
      const issued = await rowsOf('events', `WHERE type = 'TokenIssued' AND data->'refreshToken' IS NOT NULL`);
      await waitFor(async () => (await projectedRows()) === issued, 30_000, 'refreshtokendetails caught up');
      // Grants and admin revocations are different topics, consumed side by side: either may be projected first.
      const revocationEvents = await rowsOf('events', `WHERE type = 'RefreshTokensRevoked'`);
      await waitFor(async () => (await rowsOf('refresh_token_revocations')) === revocationEvents, 30_000, 'admin revocations projected');
    }
    await d.caughtUp();

    const dave = await api(`${d.a.url}/admin/refresh-tokens?user_id=dave`, { auth: d.admin });
    expect(dave.status).toBe(200);
    expect(dave.body.tokens).toHaveLength(4);
    for (const row of dave.body.tokens) {
      expect(row).toMatchObject({ userid: 'dave', state: 'revoked', revokedReason: 'admin', grantType: 'authorization_code' });
      expect(row.refreshtokenindex).toMatch(/^[A-Za-z0-9_-]{43}$|^[0-9a-f]{64}$/);
      expect(new Date(row.validity).getTime()).toBeGreaterThan(Date.now());
    }
    // The index is the token's hash, never the token: in what the API answers, and (cluster) in the table itself.
    const answered = JSON.stringify(await listed());
    for (const token of Object.values(tokens)) expect(answered).not.toContain(token);
    if (cluster) {
      const stored = JSON.stringify(await d.query('SELECT * FROM refreshtokendetails'));
      for (const token of Object.values(tokens)) expect(stored).not.toContain(token);
    }

    const erin = await api(`${d.b.url}/admin/refresh-tokens?user_id=erin&client_id=phone&state=active`, { auth: d.admin });
    expect(erin.body.tokens).toHaveLength(1);
    expect(erin.body.tokens[0].lastUsedAt).not.toBeNull();

    const revocations = await api(`${d.a.url}/admin/audit?type=RefreshTokensRevoked`, { auth: d.admin });
    expect(revocations.body.events.map((e: { actor: string; summary: string }) => [e.actor, e.summary])).toEqual([
      ['user:admin', 'admin revoked 0 refresh tokens of user dave on every client'],
      ['user:admin', 'admin revoked 2 refresh tokens of user dave on every client'],
      ['user:admin', 'admin revoked 2 refresh tokens of user dave on client phone'],
    ]);
    const daveHistory = await api(`${d.a.url}/admin/audit?user_id=dave&type=SignInSucceeded`, { auth: d.admin });
    expect(daveHistory.body.events).toHaveLength(4);
  });

  it('pages refresh tokens and audit events with cursors that neither skip nor repeat, even while events are written', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { tokens: { pkid: string }[]; nextCursor: string | null } } = await api(
        `${d.a.url}/admin/refresh-tokens?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { auth: d.admin },
      );
      seen.push(...page.body.tokens.map((t) => t.pkid));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength((await listed()).length);
    if (cluster) expect(seen).toHaveLength(await projectedRows());
    expect(new Set(seen).size).toBe(seen.length);

    const all = (await api(`${d.a.url}/admin/audit?limit=500`, { auth: d.admin })).body.events.map((e: { seq: number }) => e.seq);
    const walked: number[] = [];
    cursor = null;
    let pages = 0;
    do {
      const page: { body: { events: { seq: number }[]; nextCursor: string | null } } = await api(`${d.a.url}/admin/audit?limit=7${cursor ? `&cursor=${cursor}` : ''}`, { auth: d.admin });
      walked.push(...page.body.events.map((e) => e.seq));
      cursor = page.body.nextCursor;
      // New events arrive at the top while the pages are read: none may shift the walk.
      if (pages++ < 3) await login(d.a, 'erin', 'desk');
    } while (cursor);
    expect(walked.slice(walked.indexOf(all[0]))).toEqual(all);
    expect(new Set(walked).size).toBe(walked.length);
  });

  it('revokes a user with 10,000 refresh tokens in one call', async () => {
    // Set-up the API cannot make in a test's time: 10,000 issued tokens, put straight into the
    // event store with their outbox rows (embedded: on the stopped node's data, which it relays
    // and projects when it starts again).
    const [{ p: base }] = await d.seed<{ p: number }>('SELECT coalesce(max(position), 0)::int AS p FROM events');
    const expires = new Date(Date.now() + 86_400_000).toISOString();
    await d.seed(
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
    const answer = await api(`${d.b.url}/ssosp/token/revoke?user_id=bulk`, { method: 'POST', auth: d.admin });
    expect(answer.status).toBe(200);
    expect(answer.body.revoked).toBe(10_000);
    expect(Date.now() - started).toBeLessThan(60_000);
    await stillServing(d.b);
    await waitFor(async () => {
      const left = await api(`${d.a.url}/admin/refresh-tokens?user_id=bulk&state=active&limit=1`, { auth: d.admin });
      if (!(left.status === 200 && left.body.tokens.length === 0)) return false;
      if (cluster) return Number((await d.query(`SELECT count(*) FROM refreshtokendetails WHERE userid = 'bulk' AND state = 'revoked'`))[0].count) === 10_000;
      return (await listed('user_id=bulk&state=revoked')).length === 10_000;
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
      const answer = await api(`${d.a.url}${path}`, { method, auth: d.admin });
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
      const answer = await api(`${d.a.url}/admin/refresh-tokens/revoke`, { method: 'POST', auth: d.admin, body });
      expect(answer.status).toBe(400);
      expect(answer.body.code).toBe(code);
    });

    it('asks for admin credentials, and refuses an account without the role', async () => {
      expect((await api(`${d.a.url}/ssosp/token/revoke?user_id=dave`, { method: 'POST' })).status).toBe(401);
      expect((await api(`${d.a.url}/admin/audit`)).status).toBe(401);
      expect((await api(`${d.a.url}/admin/refresh-tokens`, { auth: basic('dave', 'dave-password') })).status).toBe(403);
    });

    it('left no event behind for a refused revocation', async () => {
      await d.caughtUp();
      const audited = (await api(`${d.a.url}/admin/audit?type=RefreshTokensRevoked&limit=500`, { auth: d.admin })).body.events.map((e: { userId: string }) => e.userId);
      expect([...new Set(audited)].sort()).toEqual(['bulk', 'dave']);
      if (cluster) {
        const streams = (await d.query(`SELECT DISTINCT stream_id FROM events WHERE type = 'RefreshTokensRevoked'`)).map((r) => r.stream_id);
        expect(streams.sort()).toEqual(['revocation-bulk', 'revocation-dave']);
      }
    });
  });

  describe('the authz CLI, as an operator runs it', () => {
    // Cluster: credentials in the environment; embedded: run where the server's .authz-data is, the password found by the CLI itself.
    const authz = (args: string[]) => d.authz(args, { node: d.b });

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
      expect((await refresh(d.a, tokens.erin, 'phone')).status).toBe(200);

      const run = await authz(['tokens', 'revoke', '--user', 'erin', '--client', 'phone', '--yes']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Revoked 1 refresh token of user "erin" on client "phone" \(at \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\)\.\n$/);
      expect((await refresh(d.a, tokens.erin, 'phone')).status).toBe(400);
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
            const page: { body: Record<string, unknown> & { nextCursor: string | null } } = await api(`${d.a.url}/${path}?limit=500${cursor ? `&cursor=${cursor}` : ''}`, { auth: d.admin });
            (into as unknown[]).push(...(page.body[field] as unknown[]));
            cursor = page.body.nextCursor;
          } while (cursor);
        }
        // The audit's sequence numbers are its commit order, renumbered by a rebuild: compare the entries.
        const audit = auditNow.map(({ seq: _seq, ...entry }) => entry).sort((x, y) => x.position - y.position);
        return { tokens: tokensNow, audit };
      };
      let before: Awaited<ReturnType<typeof everything>>;
      if (cluster) {
        const outboxEmpty = async () => Number((await d.query('SELECT count(*) AS n FROM outbox'))[0].n) === 0;
        await waitFor(outboxEmpty, 30_000, 'the outbox drained');
        const eventCount = Number((await d.query('SELECT count(*) AS n FROM events'))[0].n);
        before = await waitFor(async () => {
          const now = await everything();
          return now.audit.length === eventCount && now;
        }, 60_000, 'the audit caught up');
      } else {
        // Embedded: the lag on /metrics is exact (one process, events delivered in order).
        await d.caughtUp();
        before = await everything();
      }

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
