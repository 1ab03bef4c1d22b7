import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describeModes, modesFromEnv, startDeployment, type Deployment } from '../support/deployment';
import { KAFKA_BROKERS, createDatabase, uniqueName, waitFor } from '../support/infra';
import { runAuthz } from '../support/cli';
import { api, basic, startNode, type Node } from '../support/processes';

const PASSWORD = 'purge-admin-password';

/** A reader of a node's /metrics: the value of an unlabelled sample. */
async function metric(node: Node): Promise<(name: string) => number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  return (name) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    if (!line) throw new Error(`no ${name} in /metrics`);
    return Number(line.slice(name.length + 1));
  };
}

/**
 * The purge on two real server nodes sharing PostgreSQL and Kafka: the daily schedule on both
 * (one runs it), POST /admin/purge and `authz purge`, with another node's run in the way. Two
 * nodes and direct SQL: cluster mode only (the embedded run of the HTTP API and the CLI is below).
 */
describeModes(modesFromEnv(['cluster']), 'purge of expired refresh tokens on a cluster of two nodes (%s mode)', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let sql: pg.Client;
  let nodeA: Node;
  let nodeB: Node;
  let scheduledAt: number;
  const admin = basic('admin', PASSWORD);

  beforeAll(async () => {
    database = await createDatabase('authz_e2e');
    // A whole second 30 s away: both nodes are up (and the rows seeded) by then.
    scheduledAt = Math.ceil((Date.now() + 30_000) / 1_000) * 1_000;
    const at = new Date(scheduledAt).toISOString().slice(11, 19);
    const env = {
      AUTHZ_DATABASE_URL: database.url,
      AUTHZ_KAFKA_BROKERS: KAFKA_BROKERS,
      AUTHZ_KAFKA_TOPIC_PREFIX: uniqueName('e2e'),
      AUTHZ_ADMIN_USER: 'admin',
      AUTHZ_ADMIN_PASSWORD: PASSWORD,
      AUTHZ_KEK: randomBytes(32).toString('base64'),
      AUTHZ_PURGE_AT: at,
      AUTHZ_PURGE_PAUSE_MS: '100',
    };
    [nodeA, nodeB] = await Promise.all([startNode('server', { ...env, AUTHZ_NODE_ID: 'node-a' }), startNode('server', { ...env, AUTHZ_NODE_ID: 'node-b' })]);
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await Promise.all([nodeA?.stop(), nodeB?.stop()]);
    await database?.drop();
  });

  /** `count` rows as the projection writes them, valid until `validity` on (10 ms apart). */
  async function seed(prefix: string, count: number, validity: string): Promise<void> {
    await sql.query(
      `INSERT INTO refreshtokendetails (pkid, refreshtokenindex, userid, clientid, validity, state, scope, grant_type, family,
                                        issued_at, issued_position, family_position, node_id)
       SELECT $1 || '-' || i, 'hash-' || $1 || '-' || i, 'user-' || (i % 97), 'client', (${validity}) + i * interval '10 ms',
              (ARRAY['active', 'rotated', 'revoked'])[1 + i % 3], 'chat', 'authorization_code', 'family-' || i, now() - interval '60 days', i, i, 'seed'
         FROM generate_series(1, $2::int) AS i`,
      [prefix, count],
    );
  }
  const expired = async () => Number((await sql.query('SELECT count(*) AS n FROM refreshtokendetails WHERE validity < now()')).rows[0].n);
  const live = async () => Number((await sql.query('SELECT count(*) AS n FROM refreshtokendetails WHERE validity >= now()')).rows[0].n);
  const purgeEvents = async () =>
    (await sql.query("SELECT actor, node_id, data FROM events WHERE stream_id = 'maintenance-purge' ORDER BY stream_version")).rows as {
      actor: string;
      node_id: string;
      data: Record<string, unknown>;
    }[];
  const purge = (node: Node, options: Parameters<typeof api>[1] = {}) => api(`${node.url}/admin/purge`, { method: 'POST', auth: admin, ...options });

  const authz = (node: Node, args: string[]) =>
    runAuthz(args, { env: { AUTHZ_URL: node.url, AUTHZ_ADMIN_USER: 'admin', AUTHZ_ADMIN_PASSWORD: PASSWORD } });

  it('both nodes schedule the daily run at AUTHZ_PURGE_AT; one of them runs it', async () => {
    await seed('daily', 100_000, `now() - interval '3 days'`);
    await seed('live', 500, `now() + interval '3 days'`);
    expect(Date.now()).toBeLessThan(scheduledAt);
    const [event] = await waitFor(async () => {
      const events = await purgeEvents();
      return events.length > 0 && events;
    }, scheduledAt - Date.now() + 60_000, 'the scheduled purge');
    expect(event.data).toMatchObject({ count: 100_000, batches: 21, capped: false, trigger: 'schedule' });
    expect(Date.parse(event.data.cutoff as string)).toBeGreaterThanOrEqual(scheduledAt);
    expect(event.actor).toBe(`system:${event.node_id}`);
    expect(await expired()).toBe(0);
    expect(await live()).toBe(500);
    // The other node found the lock taken (or, if its timer fired after the run, nothing to do):
    // either way it records nothing.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await purgeEvents()).toHaveLength(1);
    const other = event.node_id === 'node-a' ? nodeB : nodeA;
    expect(other.output()).toMatch(/scheduled purge skipped: another node is purging|purge done \{[^}]*"count":0/);
  });

  it('refuses requests without admin credentials (401) and bad options (400, 415), purging nothing', async () => {
    await seed('untouched', 1_000, `now() - interval '1 day'`);
    const events = (await purgeEvents()).length;
    const none = await api(`${nodeA.url}/admin/purge`, { method: 'POST' });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ error: 'invalid_client' });
    expect((await api(`${nodeA.url}/admin/purge`, { method: 'POST', auth: basic('admin', 'wrong') })).status).toBe(401);
    for (const body of [{ maxRows: 0 }, { maxRows: -5 }, { maxRows: 1.5 }, { maxRows: '100' }, { maxRows: 1e12 }, { maxRows: null }, { maxrows: 10 }, [1], 'all']) {
      const answer = await purge(nodeB, { body });
      expect({ body, status: answer.status }).toEqual({ body, status: 400 });
      expect(answer.body).toMatchObject({ error: 'invalid_request', error_description: expect.any(String) });
      expect(JSON.stringify(answer.body)).not.toMatch(/\bat \S+:\d+:\d+/);
    }
    expect((await purge(nodeB, { rawBody: '{"maxRows": 1', contentType: 'application/json' })).status).toBe(400);
    expect((await purge(nodeB, { rawBody: 'maxRows=10', contentType: 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect(await expired()).toBe(1_000);
    expect(await purgeEvents()).toHaveLength(events);
  });

  it('POST /admin/purge answers the run: capped by maxRows, then the rest', async () => {
    await seed('manual', 19_000, `now() - interval '1 day'`);
    const first = await purge(nodeA, { body: { maxRows: 15_000 } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ count: 15_000, batches: 3, capped: true, largestBatch: 5_000 });
    expect(Object.keys(first.body)).toEqual(expect.arrayContaining(['count', 'batches', 'cutoff', 'through', 'capped', 'durationMs']));
    const rest = await purge(nodeB);
    expect(rest.status).toBe(200);
    expect(rest.body).toMatchObject({ count: 5_000, capped: false });
    expect(await expired()).toBe(0);
    const events = await purgeEvents();
    expect(events.slice(-2).map((e) => [e.actor, e.node_id, e.data.count, e.data.trigger])).toEqual([
      ['user:admin', 'node-a', 15_000, 'manual'],
      ['user:admin', 'node-b', 5_000, 'manual'],
    ]);
  });

  it('while node A purges, node B answers 409 purge_running and `authz purge` exits 1; afterwards the CLI prints a summary', async () => {
    await seed('big', 200_000, `now() - interval '1 day'`);
    const running = purge(nodeA);
    await waitFor(async () => (await expired()) < 200_000, 30_000, 'node A to be purging');
    const refused = await purge(nodeB);
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ error: 'purge_running', error_description: expect.stringContaining('another node is purging') });
    const cli = await authz(nodeB, ['purge']);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('error: another node is purging expired refresh tokens');
    expect(cli.stdout).toBe('');
    expect((await purge(nodeA)).status).toBe(409);
    // Its progress, in batches that never pass the batch size, is on node A's /metrics.
    const during = await metric(nodeA);
    expect(during('authz_purge_running')).toBe(1);
    expect(during('authz_purge_run_deleted_rows')).toBeGreaterThan(0);
    expect(during('authz_purge_largest_batch_rows')).toBeLessThanOrEqual(5_000);

    const done = await running;
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ count: 200_000, batches: 41, capped: false });
    const after = await metric(nodeA);
    expect(after('authz_purge_running')).toBe(0);
    expect(after('authz_purge_largest_batch_rows')).toBe(5_000);
    expect(after('authz_purge_rows_total')).toBeGreaterThanOrEqual(200_000);
    expect(after('authz_purge_batches_total')).toBeGreaterThanOrEqual(41);
    expect((await metric(nodeB))('authz_purge_refused_total')).toBeGreaterThanOrEqual(2);

    await seed('cli', 7, `now() - interval '1 day'`);
    const summary = await authz(nodeB, ['purge']);
    expect(summary).toMatchObject({ code: 0, stderr: '' });
    expect(summary.stdout).toContain('Purged 7 expired refresh tokens in 1 batch (at most 7 rows each)');
    expect(summary.stdout).toMatch(/Recorded:\s+RefreshTokensPurged event at position \d+/);
    const json = await authz(nodeA, ['purge', '--max-rows', '10', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ count: 0, batches: 1, through: null, capped: false });
    expect(await live()).toBe(500);
  });
});

/**
 * The same HTTP API and CLI on an embedded server (one process, PGlite, one database
 * session): POST /admin/purge's answers, capped and uncapped, its refusals, `authz purge`, a
 * second request while a purge runs on the node (409, and the node keeps serving), all checked
 * through the API. The expired rows are seeded in the stopped node's data (no API makes
 * expired tokens in a test's time).
 */
describeModes(modesFromEnv(['embedded']), 'purge of expired refresh tokens on an embedded server (%s mode)', (mode) => {
  let d: Deployment;

  beforeAll(async () => {
    d = await startDeployment(mode, { name: 'purge', nodeIds: ['embedded-purge', 'unused'], env: { AUTHZ_PURGE_AT: 'off', AUTHZ_PURGE_PAUSE_MS: '100' } });
  });

  afterAll(async () => {
    await d?.stop();
  });

  /** Rows as the projection writes them, `count` per prefix, valid until `validity` on (10 ms apart); one restart of the node for all. */
  async function seed(sets: [prefix: string, count: number, validity: string][]): Promise<void> {
    const selects = sets.map(
      ([prefix, count, validity]) =>
        `SELECT '${prefix}-' || i AS pkid, 'hash-${prefix}-' || i AS idx, 'user-' || (i % 97) AS userid, (${validity}) + i * interval '10 ms' AS validity,
                (ARRAY['active', 'rotated', 'revoked'])[1 + i % 3] AS state, i
           FROM generate_series(1, ${count}) AS i`,
    );
    await d.seed(
      `INSERT INTO refreshtokendetails (pkid, refreshtokenindex, userid, clientid, validity, state, scope, grant_type, family,
                                        issued_at, issued_position, family_position, node_id)
       SELECT pkid, idx, userid, 'client', validity, state, 'chat', 'authorization_code', 'family-' || pkid, now() - interval '60 days', i, i, 'seed'
         FROM (${selects.join(' UNION ALL ')}) AS rows`,
    );
  }
  /** Every row of refreshtokendetails, through the API's pages, by whether it is past its validity. */
  async function rows(): Promise<{ expired: number; live: number }> {
    let expired = 0;
    let live = 0;
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { tokens: { validity: string }[]; nextCursor: string | null } } = await api(
        `${d.a.url}/admin/refresh-tokens?limit=500${cursor ? `&cursor=${cursor}` : ''}`,
        { auth: d.admin },
      );
      expect(page.status).toBe(200);
      const now = Date.now();
      for (const row of page.body.tokens) new Date(row.validity).getTime() < now ? expired++ : live++;
      cursor = page.body.nextCursor;
    } while (cursor);
    return { expired, live };
  }
  /** The purges the audit history recorded, oldest first. */
  async function purgesAudited() {
    await d.caughtUp();
    const answer = await api(`${d.a.url}/admin/audit?type=RefreshTokensPurged&limit=500`, { auth: d.admin });
    expect(answer.status).toBe(200);
    return (answer.body.events as { actor: string; nodeId: string; summary: string }[]).reverse();
  }
  const purge = (options: Parameters<typeof api>[1] = {}) => api(`${d.a.url}/admin/purge`, { method: 'POST', auth: d.admin, ...options });

  it('refuses requests without admin credentials (401) and bad options (400, 415), purging nothing', async () => {
    await seed([
      ['untouched', 1_000, `now() - interval '1 day'`],
      ['live', 500, `now() + interval '3 days'`],
    ]);
    const none = await api(`${d.a.url}/admin/purge`, { method: 'POST' });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ error: 'invalid_client' });
    expect((await api(`${d.a.url}/admin/purge`, { method: 'POST', auth: basic('admin', 'wrong') })).status).toBe(401);
    for (const body of [{ maxRows: 0 }, { maxRows: -5 }, { maxRows: 1.5 }, { maxRows: '100' }, { maxRows: 1e12 }, { maxRows: null }, { maxrows: 10 }, [1], 'all']) {
      const answer = await purge({ body });
      expect({ body, status: answer.status }).toEqual({ body, status: 400 });
      expect(answer.body).toMatchObject({ error: 'invalid_request', error_description: expect.any(String) });
      expect(JSON.stringify(answer.body)).not.toMatch(/\bat \S+:\d+:\d+/);
    }
    expect((await purge({ rawBody: '{"maxRows": 1', contentType: 'application/json' })).status).toBe(400);
    expect((await purge({ rawBody: 'maxRows=10', contentType: 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect(await rows()).toEqual({ expired: 1_000, live: 500 });
    expect(await purgesAudited()).toEqual([]);
  });

  it('POST /admin/purge answers the run: capped by maxRows, then the rest; the audit records both', async () => {
    await seed([['manual', 19_000, `now() - interval '1 day'`]]);
    const first = await purge({ body: { maxRows: 15_000 } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ count: 15_000, batches: 3, capped: true, largestBatch: 5_000 });
    expect(Object.keys(first.body)).toEqual(expect.arrayContaining(['count', 'batches', 'cutoff', 'through', 'capped', 'durationMs']));
    const rest = await purge();
    expect(rest.status).toBe(200);
    expect(rest.body).toMatchObject({ count: 5_000, capped: false });
    expect(await rows()).toEqual({ expired: 0, live: 500 });
    expect((await purgesAudited()).map((e) => [e.actor, e.nodeId, e.summary.replace(/cutoff [^,]+/, 'cutoff …')])).toEqual([
      ['user:admin', 'embedded-purge', 'purge (manual) deleted 15000 expired refresh tokens in 3 batches, cutoff …, stopped at its cap'],
      ['user:admin', 'embedded-purge', `purge (manual) deleted 5000 expired refresh tokens in ${rest.body.batches} batches, cutoff …`],
    ]);
    const after = await metric(d.a);
    expect(after('authz_purge_running')).toBe(0);
    expect(after('authz_purge_largest_batch_rows')).toBe(5_000);
    expect(after('authz_purge_rows_total')).toBeGreaterThanOrEqual(20_000);
    expect(after('authz_purge_batches_total')).toBeGreaterThanOrEqual(4);
  });

  it('while the node purges, another request answers 409 purge_running and `authz purge` exits 1; the node keeps serving', async () => {
    await seed([['big', 100_000, `now() - interval '1 day'`]]);
    const running = purge();
    await waitFor(async () => (await metric(d.a))('authz_purge_running') === 1, 30_000, 'the node to be purging');
    const started = Date.now();
    const refused = await purge();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ error: 'purge_running', error_description: expect.any(String) });
    const cli = await d.authz(['purge']);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/^error: .*purg/);
    expect(cli.stdout).toBe('');
    // One database session, shared with the purge between its batches: the node answers meanwhile.
    expect((await api(`${d.a.url}/health`)).status).toBe(200);
    expect((await api(`${d.a.url}/admin/parameters`, { auth: d.admin })).status).toBe(200);
    const during = await metric(d.a);
    expect(during('authz_purge_largest_batch_rows')).toBeLessThanOrEqual(5_000);

    const done = await running;
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ count: 100_000, batches: 21, capped: false });
  });

  it('authz purge prints a summary; --max-rows and --json', async () => {
    await seed([['cli', 7, `now() - interval '1 day'`]]);
    const summary = await d.authz(['purge']);
    expect(summary).toMatchObject({ code: 0, stderr: '' });
    expect(summary.stdout).toContain('Purged 7 expired refresh tokens in 1 batch (at most 7 rows each)');
    expect(summary.stdout).toMatch(/Recorded:\s+RefreshTokensPurged event at position \d+/);
    const json = await d.authz(['purge', '--max-rows', '10', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ count: 0, batches: 1, through: null, capped: false });
    expect(await rows()).toEqual({ expired: 0, live: 500 });
  });
});
