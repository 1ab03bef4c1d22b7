import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { KAFKA_BROKERS, createDatabase, uniqueName, waitFor } from '../support/infra';
import { describeModes, modesFromEnv, startDeployment, type Deployment } from '../support/deployment';
import { api, basic, startNode, type Node } from '../support/processes';
import { clientBasic, serviceClient } from '../support/oauth';

/** The value of one sample of a Prometheus text exposition, found by name and exact labels. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (JSON.stringify(Object.entries(found).sort()) === JSON.stringify(Object.entries(labels).sort())) return Number(match[3]);
  }
  return undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** What a node answers and records about the requests it serves: the same in both modes. */
function requestTests(ctx: { server: () => Node; client: () => { clientId: string; clientSecret: string }; correlationOfLastToken: () => Promise<string | undefined> }) {
  const scrape = async (node: Node, headers: Record<string, string> = {}) => {
    const response = await fetch(`${node.url}/metrics`, { headers });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return response.text();
  };

  const tokenRequest = (headers: Record<string, string> = {}) =>
    fetch(`${ctx.server().url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: clientBasic(ctx.client().clientId, ctx.client().clientSecret), ...headers },
      body: 'grant_type=client_credentials',
    });

  it('counts the tokens this node issues and revokes by grant and client, and times requests by route pattern', async () => {
    const issued = { grant_type: 'client_credentials', client_id: ctx.client().clientId };
    const before = sample(await scrape(ctx.server()), 'authz_tokens_issued_total', issued) ?? 0;
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await tokenRequest();
      expect(response.status).toBe(200);
      tokens.push(((await response.json()) as { access_token: string }).access_token);
    }
    const revoke = await fetch(`${ctx.server().url}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: clientBasic(ctx.client().clientId, ctx.client().clientSecret) },
      body: new URLSearchParams({ token: tokens[0] }).toString(),
    });
    expect(revoke.status).toBe(200);
    // A failed attempt counts no token, and is timed under its own status.
    const wrong = await fetch(`${ctx.server().url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: clientBasic(ctx.client().clientId, 'wrong-secret') },
      body: 'grant_type=client_credentials',
    });
    expect(wrong.status).toBe(401);

    const text = await scrape(ctx.server());
    expect(sample(text, 'authz_tokens_issued_total', issued)).toBe(before + 3);
    expect(sample(text, 'authz_tokens_revoked_total', { token_type: 'access', reason: 'client_request', client_id: ctx.client().clientId })).toBe(1);
    expect(sample(text, 'authz_http_request_duration_seconds_count', { method: 'POST', route: '/oauth/token', status: '200' })).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'authz_http_request_duration_seconds_count', { method: 'POST', route: '/oauth/token', status: '401' })).toBe(1);
    expect(sample(text, 'authz_http_request_duration_seconds_bucket', { method: 'POST', route: '/oauth/token', status: '200', le: '+Inf' })).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'authz_http_request_duration_seconds_count', { method: 'POST', route: '/admin/clients', status: '201' })).toBe(1);
    // The gauges read from the shared tables, on a node that runs no projection too.
    expect(sample(text, 'authz_outbox_backlog_events')).toBeGreaterThanOrEqual(0);
    for (const projection of ['parameters', 'clients']) {
      expect(sample(text, 'authz_projection_lag_events', { projection })).toBeGreaterThanOrEqual(0);
      expect(sample(text, 'authz_projection_lag_seconds', { projection })).toBeGreaterThanOrEqual(0);
    }
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    // Labels hold route patterns and client ids: never a token or a secret.
    for (const secret of [tokens[1].slice(-20), ctx.client().clientSecret, 'wrong-secret']) expect(text).not.toContain(secret);
  });

  it("carries the caller's correlation id to the response, the log lines and the event", async () => {
    const id = `e2e-${randomBytes(6).toString('hex')}`;
    const response = await tokenRequest({ 'x-correlation-id': id });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-correlation-id')).toBe(id);
    expect(await ctx.correlationOfLastToken()).toBe(id);
    const line = await waitFor(
      () => ctx.server().output().split('\n').find((l) => l.includes(`"correlationId":"${id}"`)),
      10_000,
      'the access line',
    );
    expect(JSON.parse(line)).toMatchObject({ method: 'POST', route: '/oauth/token', status: 200, correlationId: id, context: 'authz-server' });
    // The access line never holds the Authorization header or the body.
    expect(line).not.toContain('Basic');
    expect(line).not.toContain('client_credentials');
  });

  it('replaces a malformed correlation id with a new one, used alike in the response, the log and the event', async () => {
    for (const bad of ['x'.repeat(65), 'two words', '<script>', 'semi;colon']) {
      const response = await tokenRequest({ 'x-correlation-id': bad });
      expect(response.status).toBe(200);
      const id = response.headers.get('x-correlation-id')!;
      expect(id).toMatch(UUID);
      expect(await ctx.correlationOfLastToken()).toBe(id);
      await waitFor(() => ctx.server().output().includes(`"correlationId":"${id}"`), 10_000, 'the access line');
      expect(ctx.server().output()).not.toContain(bad);
    }
  });
}

/**
 * Metrics, correlation ids and readiness of cluster nodes on the real PostgreSQL and Kafka: a
 * server, and a projector whose topics nothing is relayed to (its lag and readiness need Kafka
 * and a projector process: cluster mode only). The request metrics and correlation ids run on an
 * embedded server too, below.
 */
describeModes(modesFromEnv(['cluster']), 'observability of a cluster (%s mode)', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let db: pg.Client;
  let server: Node;
  let stranded: Node;
  let env: Record<string, string>;
  const admin = basic('admin', 'observability-admin-password');
  const metricsToken = randomBytes(24).toString('base64url');
  let client: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    database = await createDatabase('authz_e2e');
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    env = {
      AUTHZ_DATABASE_URL: database.url,
      AUTHZ_KAFKA_BROKERS: KAFKA_BROKERS,
      AUTHZ_KAFKA_TOPIC_PREFIX: uniqueName('e2e'),
      AUTHZ_ADMIN_USER: 'admin',
      AUTHZ_ADMIN_PASSWORD: 'observability-admin-password',
      AUTHZ_KEK: randomBytes(32).toString('base64'),
    };
    // A projector whose Kafka topics nothing is relayed to. It starts first, on an empty event
    // store, so it starts ready (startNode waits for 200); its read models fall behind from the
    // server's first events (the audit reads them all) and the client registered below.
    stranded = await startNode('projector', {
      ...env,
      AUTHZ_KAFKA_TOPIC_PREFIX: uniqueName('e2e_stranded'),
      AUTHZ_NODE_ID: 'obs-stranded',
      AUTHZ_READY_MAX_LAG_SECONDS: '1',
      AUTHZ_METRICS_TOKEN: metricsToken,
    });
    server = await startNode('server', { ...env, AUTHZ_NODE_ID: 'obs-server' });
    client = await serviceClient(server.url, admin, 'obs-service');
  });

  afterAll(async () => {
    await Promise.all([server?.stop(), stranded?.stop()]);
    await db?.end();
    await database?.drop();
  });

  const scrape = async (node: Node, headers: Record<string, string> = {}) => {
    const response = await fetch(`${node.url}/metrics`, { headers });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return response.text();
  };

  /** The correlation id of the last token issued to the test's client (requests here run one at a time). */
  const correlationOfLastToken = async () => {
    const { rows } = await db.query(
      `SELECT correlation_id FROM events WHERE type = 'TokenIssued' AND data->>'clientId' = $1 ORDER BY position DESC LIMIT 1`,
      [client.clientId],
    );
    return rows[0]?.correlation_id as string | undefined;
  };

  requestTests({ server: () => server, client: () => client, correlationOfLastToken });

  it('turns a projecting node unready while its projections lag past the limit, and ready again once they catch up', async () => {
    let projector: Node | undefined;
    try {
      const unready = await waitFor(async () => {
        const response = await api(`${stranded.url}/health/ready`);
        return response.status === 503 && response;
      }, 30_000, 'the stranded projector to turn unready');
      expect(unready.body).toMatchObject({ status: 'down', checks: { database: 'up', kafka: 'up', projections: 'lagging' } });
      // One reason, naming the worst projection: which one depends on the events the earlier
      // tests left (the audit and refreshtokendetails read token events, the clients projection the registration).
      expect(unready.body.reasons).toEqual([expect.stringMatching(/^projection (audit|clients|refreshtokendetails) is \d+ s behind \(\d+ events?; the limit is 1 s\)$/)]);
      // The server runs no projection: the lag is not its readiness.
      expect((await api(`${server.url}/health/ready`)).status).toBe(200);

      // Its metrics want the bearer token, and show the lag.
      expect((await fetch(`${stranded.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${stranded.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}x` } })).status).toBe(401);
      const text = await waitFor(async () => {
        const scraped = await scrape(stranded, { authorization: `Bearer ${metricsToken}` });
        return (sample(scraped, 'authz_projection_lag_seconds', { projection: 'clients' }) ?? 0) > 1 && scraped;
      }, 30_000, 'the clients projection more than 1 s behind');
      expect(sample(text, 'authz_projection_lag_events', { projection: 'clients' })).toBe(1);
      expect(sample(text, 'authz_http_request_duration_seconds_count', { method: 'GET', route: '/health/ready', status: '503' })).toBeGreaterThanOrEqual(1);

      projector = await startNode('projector', { ...env, AUTHZ_NODE_ID: 'obs-projector' });
      const ready = await waitFor(async () => {
        const response = await api(`${stranded.url}/health/ready`);
        return response.status === 200 && response;
      }, 60_000, 'the stranded projector to be ready again');
      expect(ready.body).toMatchObject({ status: 'up', checks: { projections: 'up' } });
      const caughtUp = await scrape(stranded, { authorization: `Bearer ${metricsToken}` });
      for (const projection of ['parameters', 'clients']) {
        expect(sample(caughtUp, 'authz_projection_lag_events', { projection })).toBe(0);
        expect(sample(caughtUp, 'authz_projection_lag_seconds', { projection })).toBe(0);
      }
    } finally {
      await projector?.stop();
    }
  });
});

/** The request metrics and correlation ids on an embedded server, the event's correlation id read from the audit history. */
describeModes(modesFromEnv(['embedded']), 'observability of an embedded server (%s mode)', (mode) => {
  let d: Deployment;
  let client: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    d = await startDeployment(mode, { name: 'observability', nodeIds: ['obs-server', 'unused'] });
    client = await serviceClient(d.a.url, d.admin, 'obs-service');
  });

  afterAll(async () => d?.stop());

  /** The correlation id of the last token issued to the test's client, from the audit (requests here run one at a time). */
  const correlationOfLastToken = async () => {
    await d.caughtUp();
    const answer = await api(`${d.a.url}/admin/audit?type=TokenIssued&client_id=${client.clientId}&limit=1`, { auth: d.admin });
    return answer.body.events[0]?.correlationId as string | undefined;
  };

  requestTests({ server: () => d.a, client: () => client, correlationOfLastToken });
});
