import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { KAFKA_BROKERS, createDatabase, uniqueName, waitFor } from '../support/infra';
import { clientBasic, clientCredentialsToken, form, introspect, serviceClient } from '../support/oauth';
import { runAuthz } from '../support/cli';
import { describeModes, modesFromEnv, startDeployment, type Deployment } from '../support/deployment';
import { api, basic, startNode, type Node } from '../support/processes';

/** Events put straight into the store for the replay under load: enough for it to last seconds. */
const BULK = 15_000;

/** Bad replay requests and their answers, in both modes. */
const BAD_REQUESTS: [unknown, number, RegExp][] = [
  [{ projection: 'nope' }, 400, /no projection "nope": one of parameters, clients, refreshtokendetails, audit, keys, all/],
  [{}, 400, /projection is required: one of parameters, clients, refreshtokendetails, audit, keys, all/],
  [{ projection: 42 }, 400, /projection is required/],
  [{ projection: "clients'; DROP TABLE clients; --" }, 400, /no projection/],
  [{ projection: 'all', from: -1 }, 400, /from must be an event position/],
  [{ projection: 'all', from: 1.5 }, 400, /from must be an event position/],
  [{ projection: 'all', from: '0' }, 400, /from must be an event position/],
  [{ projection: 'all', from: 1e300 }, 400, /from must be an event position/],
  [{ projection: 'all', from: 10_000_000 }, 400, /past the last event/],
  [{ projection: 'all', source: 'ftp' }, 400, /source must be "store" or "kafka"/],
  [{ projection: 'all', follow: true }, 400, /unknown field follow/],
  [[{ projection: 'all' }], 400, /send a JSON object/],
];

/**
 * `authz replay` on a cluster of two server nodes (neither runs projections: node A replays
 * through a runner of its own) and a projector, sharing one real PostgreSQL and one real Kafka.
 * Cluster mode only: several nodes, Kafka as a source, direct SQL (a lost delivery, 15,000 events
 * put in the store); the embedded run of the API and the CLI is below.
 */
describeModes(modesFromEnv(['cluster']), 'replay of read models and key caches on a cluster (%s mode)', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let sql: pg.Client;
  let nodeA: Node;
  let nodeB: Node;
  let projector: Node;
  let env: Record<string, string>;
  const password = 'replay-admin-password';
  const admin = basic('admin', password);
  const services: { clientId: string; clientSecret: string }[] = [];
  /** The read models' answers after the events below, as the live projections built them. */
  let live: Awaited<ReturnType<typeof answers>>;

  beforeAll(async () => {
    database = await createDatabase('authz_replay');
    env = {
      AUTHZ_DATABASE_URL: database.url,
      AUTHZ_KAFKA_BROKERS: KAFKA_BROKERS,
      AUTHZ_KAFKA_TOPIC_PREFIX: uniqueName('replay'),
      AUTHZ_ADMIN_USER: 'admin',
      AUTHZ_ADMIN_PASSWORD: password,
      AUTHZ_RELAY_POLL_MS: '100',
      AUTHZ_KEK: randomBytes(32).toString('base64'),
    };
    [nodeA, nodeB] = await Promise.all([
      startNode('server', { ...env, AUTHZ_NODE_ID: 'node-a' }),
      startNode('server', { ...env, AUTHZ_NODE_ID: 'node-b' }),
    ]);
    projector = await startNode('projector', { ...env, AUTHZ_NODE_ID: 'projector-1' });
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await Promise.all([nodeA?.stop(), nodeB?.stop(), projector?.stop()]);
    await database?.drop();
  });

  /** What admins query: the parameters, their history, every client. */
  async function answers(node: Node = nodeA) {
    const clients: unknown[] = [];
    for (let cursor = ''; ; ) {
      const page = await api(`${node.url}/admin/clients?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { auth: admin });
      expect(page.status).toBe(200);
      clients.push(...page.body.clients);
      if (!page.body.nextCursor) break;
      cursor = page.body.nextCursor;
    }
    return {
      parameters: (await api(`${node.url}/admin/parameters`, { auth: admin })).body,
      history: (await api(`${node.url}/admin/parameters/history?limit=500`, { auth: admin })).body,
      clients,
    };
  }

  const start = (body: unknown, node = nodeA) => api(`${node.url}/admin/replay`, { method: 'POST', auth: admin, body });
  const jobOf = async (id: string, node = nodeA) => (await api(`${node.url}/admin/replay/${id}`, { auth: admin })).body;

  async function replay(body: unknown, node = nodeA) {
    const started = await start(body, node);
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ state: 'running', id: expect.any(String) });
    return waitFor(async () => {
      const job = await jobOf(started.body.id, node);
      return job.state !== 'running' && job;
    }, 300_000, `replay ${JSON.stringify(body)}`);
  }

  const outboxEmpty = () => waitFor(async () => (await sql.query('SELECT count(*)::int AS n FROM outbox')).rows[0].n === 0, 60_000, 'the relay to publish everything');
  const token = (node: Node, service = services[0]) =>
    form(`${node.url}/oauth/token`, { grant_type: 'client_credentials' }, clientBasic(service.clientId, service.clientSecret));

  const authz = (args: string[]) => runAuthz(args, { env: { AUTHZ_URL: nodeA.url, AUTHZ_ADMIN_USER: 'admin', AUTHZ_ADMIN_PASSWORD: password } });

  it('projects parameter changes, clients and tokens made on both nodes', async () => {
    for (const [i, minutes] of [15, 30, 45, 20, 25].entries()) {
      const node = i % 2 ? nodeB : nodeA;
      expect((await api(`${node.url}/admin/parameters`, { method: 'PUT', auth: admin, body: { accessTokenExpiryMinutes: minutes } })).status).toBe(200);
    }
    for (const id of ['svc-1', 'svc-2', 'svc-3']) services.push(await serviceClient(nodeA.url, admin, id));
    for (let i = 0; i < 10; i++) expect((await token(i % 2 ? nodeA : nodeB)).status).toBe(200);
    live = await waitFor(async () => {
      const now = await answers();
      return now.history.length === 5 && now.clients.length === 3 && now.parameters.accessTokenExpiryMinutes === 25 && now;
    }, 60_000, 'the projector to catch up');
    await outboxEmpty();
  });

  it('POST /admin/replay all from position 0: the same answers, a ProjectionReplayed per target', async () => {
    const job = await replay({ projection: 'all' });
    expect(job).toMatchObject({
      state: 'done',
      projection: 'all',
      targets: ['parameters', 'clients', 'refreshtokendetails', 'audit', 'keys'],
      from: 0,
      source: 'store',
      applied: { parameters: 5, clients: 3, refreshtokendetails: expect.any(Number), audit: expect.any(Number), keys: 3 },
      finishedAt: expect.any(String),
    });
    expect(job.processed).toBeGreaterThanOrEqual(job.total);
    expect(job.total).toBeGreaterThan(0);
    expect(job.rate).toBeGreaterThan(0);
    expect(await answers()).toEqual(live);
    expect(await answers(nodeB)).toEqual(live);
    const recorded = await sql.query(`SELECT actor, data FROM events WHERE stream_id = 'maintenance-replay' ORDER BY stream_version`);
    expect(recorded.rows).toEqual([
      { actor: 'user:admin', data: { projection: 'parameters', from: 0, source: 'store', events: 5, durationMs: expect.any(Number) } },
      { actor: 'user:admin', data: { projection: 'clients', from: 0, source: 'store', events: 3, durationMs: expect.any(Number) } },
      { actor: 'user:admin', data: { projection: 'refreshtokendetails', from: 0, source: 'store', events: job.applied.refreshtokendetails, durationMs: expect.any(Number) } },
      { actor: 'user:admin', data: { projection: 'audit', from: 0, source: 'store', events: job.applied.audit, durationMs: expect.any(Number) } },
      { actor: 'user:admin', data: { projection: 'keys', from: 0, source: 'store', events: 3, durationMs: expect.any(Number) } },
    ]);
  });

  it('authz replay all (the CLI, as a process): the count, the time and the rate; the same answers', async () => {
    const run = await authz(['replay', 'all']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Replayed all from position 0 \(event store\): [\d,]+ events read in \d+\.\d s, [\d,]+ events\/s\.\n/);
    expect(run.stdout).toMatch(/parameters\s+5 events applied/);
    expect(run.stdout).toMatch(/clients\s+3 events applied/);
    expect(await answers()).toEqual(live);

    const unknown = await authz(['replay', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('error: no projection "nope": one of parameters, clients, refreshtokendetails, audit, keys, all');
  });

  it('--source kafka: the topics up to their ends give the same answers', async () => {
    await outboxEmpty();
    const events = Number((await sql.query('SELECT count(*) AS n FROM events')).rows[0].n);
    const job = await replay({ projection: 'all', source: 'kafka' });
    expect(job).toMatchObject({ state: 'done', source: 'kafka', applied: { parameters: 5, clients: 3, refreshtokendetails: expect.any(Number), audit: events, keys: 3 } });
    // Kafka's count is exact: every message of the topics, all of them relayed (the audit reads every topic).
    expect(job.processed).toBe(job.total);
    expect(job.total).toBe(events);
    expect(await answers()).toEqual(live);
  });

  it('--from N repairs a read model that lost a delivery, leaving the rest as it is', async () => {
    const [{ position }] = (await sql.query(`SELECT position::int FROM events WHERE stream_id = 'client-svc-2'`)).rows;
    // As if the projection had never received svc-2's registration.
    await sql.query(`DELETE FROM clients WHERE client_id = 'svc-2'`);
    await sql.query(`DELETE FROM projection_stream_versions WHERE projection = 'clients' AND stream_id = 'client-svc-2'`);
    expect((await answers()).clients.map((c: any) => c.clientId)).toEqual(['svc-1', 'svc-3']);

    const repair = await replay({ projection: 'clients', from: position - 1 });
    expect(repair).toMatchObject({ state: 'done', applied: { clients: 1 } });
    expect(await answers()).toEqual(live);
    // Nothing is missing any more: the same repair applies nothing.
    expect(await replay({ projection: 'clients', from: position - 1 })).toMatchObject({ state: 'done', applied: { clients: 0 } });
    expect(await answers()).toEqual(live);
  });

  it('keys: the node reloads its key cache, the other nodes theirs; fingerprints unchanged, tokens still valid', async () => {
    const fingerprints = async () => {
      const view = (await api(`${nodeA.url}/admin/cluster/keys`, { auth: admin })).body;
      return { allMatch: view.allMatch, nodes: view.nodes.map((n: any) => ({ nodeId: n.nodeId, keys: n.keys })) };
    };
    const before = await fingerprints();
    expect(before.nodes.map((n: any) => n.nodeId)).toEqual(['node-a', 'node-b']);
    const issued = await clientCredentialsToken(nodeB.url, services[1]);
    const reloadsOfB = () => nodeB.output().split('key cache: reloaded').length - 1;
    const reloadedB = reloadsOfB();

    for (const source of ['store', 'kafka']) {
      expect(await replay({ projection: 'keys', source })).toMatchObject({ state: 'done', targets: ['keys'], applied: { keys: 3 } });
    }
    await waitFor(() => reloadsOfB() >= reloadedB + 2, 30_000, 'node B to reload its key cache twice');
    expect(await fingerprints()).toEqual({ ...before, allMatch: true });
    for (const node of [nodeA, nodeB]) {
      expect((await introspect(node.url, services[0], issued)).active).toBe(true);
      expect((await introspect(node.url, services[0], await clientCredentialsToken(node === nodeA ? nodeB.url : nodeA.url, services[2]))).active).toBe(true);
    }
  });

  it('answers bad requests with a 4xx that says what is wrong, never a 500', async () => {
    const bad = BAD_REQUESTS;
    for (const [body, status, message] of bad) {
      const response = await start(body);
      expect({ body, status: response.status }).toEqual({ body, status });
      expect(response.body.error).toBe('invalid_request');
      expect(response.body.error_description).toMatch(message);
    }
    const notJson = await api(`${nodeA.url}/admin/replay`, { method: 'POST', auth: admin, rawBody: 'projection=all', contentType: 'application/x-www-form-urlencoded' });
    expect(notJson.status).toBe(415);
    const broken = await api(`${nodeA.url}/admin/replay`, { method: 'POST', auth: admin, rawBody: '{"projection":', contentType: 'application/json' });
    expect(broken.status).toBe(400);
    expect((await api(`${nodeA.url}/admin/replay`, { method: 'POST', body: { projection: 'all' } })).status).toBe(401);
    expect((await api(`${nodeA.url}/admin/replay/nope`)).status).toBe(401);
    const missing = await api(`${nodeA.url}/admin/replay/00000000-0000-0000-0000-000000000000`, { auth: admin });
    expect(missing.status).toBe(404);
    expect(missing.body.error_description).toContain('no such replay job on this node');
  });

  it('replays 15,000 more events while both nodes serve token requests: none fails, readers see the old model until the end', async () => {
    await sql.query(
      `INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, occurred_at, node_id, correlation_id, actor, data)
       SELECT gen_random_uuid(), 'client-bulk-' || i, 1, 'ClientRegistered', 1, now(), 'bulk', 'bulk', 'user:admin',
              jsonb_build_object('clientId', 'bulk-' || i, 'clientName', 'Bulk ' || i, 'type', 'confidential',
                                 'redirectUris', '[]'::jsonb, 'grantTypes', '["client_credentials"]'::jsonb, 'scope', 'vm.read')
         FROM generate_series(1, ${BULK}) AS i`,
    );
    const started = await start({ projection: 'all' });
    expect(started.status).toBe(202);
    const id = started.body.id;

    // One replay per target at a time: all of them overlap this one.
    for (const projection of ['all', 'clients', 'keys']) {
      const conflict = await start({ projection });
      expect(conflict.status).toBe(409);
      expect(conflict.body).toMatchObject({ error: 'conflict', error_description: `a replay of all (job ${id}) is running; wait for it to finish` });
    }

    let running = true;
    const counts = { succeeded: 0, failed: 0, failures: [] as string[] };
    const serve = async (node: Node) => {
      for (let i = 0; running; i++) {
        const response = await token(node, services[i % services.length]);
        if (!running) return; // finished after the replay: not counted
        if (response.status === 200) counts.succeeded += 1;
        else {
          counts.failed += 1;
          counts.failures.push(`${response.status} ${JSON.stringify(response.body)}`);
        }
      }
    };
    const serving = [serve(nodeA), serve(nodeB)];
    const progress: number[] = [];
    let oldModelSeen = false;
    const job = await waitFor(async () => {
      const now = await jobOf(id);
      if (now.state === 'running') {
        progress.push(now.processed);
        // Readers keep the model as it was until the replay commits.
        const page = await api(`${nodeB.url}/admin/clients?limit=500`, { auth: admin });
        if (now.state === 'running' && page.body.clients.length === 3) oldModelSeen = true;
        return false;
      }
      return now;
    }, 300_000, 'the replay under load');
    running = false;
    await Promise.all(serving);

    expect(job).toMatchObject({ state: 'done', applied: { parameters: 5, clients: 3 + BULK, keys: 3 } });
    expect(counts.failures).toEqual([]);
    expect(counts.failed).toBe(0);
    expect(counts.succeeded).toBeGreaterThan(0);
    expect(oldModelSeen).toBe(true);
    expect(progress.some((p) => p > 0 && p < job.total)).toBe(true);
    expect((await sql.query('SELECT count(*)::int AS n FROM clients')).rows[0].n).toBe(3 + BULK);
    expect((await answers()).parameters).toEqual(live.parameters);

    // The live projection was held off during the replay, and goes on after it.
    expect((await api(`${nodeB.url}/admin/parameters`, { method: 'PUT', auth: admin, body: { accessTokenExpiryMinutes: 50 } })).status).toBe(200);
    await waitFor(async () => (await answers()).parameters.accessTokenExpiryMinutes === 50, 60_000, 'the projector to apply a change made after the replay');
    expect((await api(`${projector.url}/health`)).status).toBe(200);
  });
});

/**
 * Embedded mode: PGlite and no Kafka; the same replay, one session (requests queue behind it):
 * POST /admin/replay, `authz replay`, the key cache, and the same answers to bad requests.
 */
describeModes(modesFromEnv(['embedded']), 'replay on an embedded server (%s mode)', (mode) => {
  let d: Deployment;
  let node: Node;
  let admin: string;
  let service: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    d = await startDeployment(mode, { name: 'replay', nodeIds: ['embedded', 'unused'] });
    node = d.a;
    admin = d.admin;
  });

  afterAll(async () => d?.stop());

  const replay = async (body: unknown) => {
    const started = await api(`${node.url}/admin/replay`, { method: 'POST', auth: admin, body });
    expect(started.status).toBe(202);
    return waitFor(async () => {
      const now = (await api(`${node.url}/admin/replay/${started.body.id}`, { auth: admin })).body;
      return now.state !== 'running' && now;
    }, 60_000, `the embedded replay of ${JSON.stringify(body)}`);
  };
  const answers = async () => ({
    parameters: (await api(`${node.url}/admin/parameters`, { auth: admin })).body,
    history: (await api(`${node.url}/admin/parameters/history?limit=500`, { auth: admin })).body,
    clients: (await api(`${node.url}/admin/clients`, { auth: admin })).body,
  });

  it('replays all to the same answers; source kafka is a 400 that says why', async () => {
    expect((await api(`${node.url}/admin/parameters`, { method: 'PUT', auth: admin, body: { refreshTokenExpiryDays: 9 } })).status).toBe(200);
    service = await serviceClient(node.url, admin, 'embedded-svc');
    const before = {
      parameters: (await api(`${node.url}/admin/parameters`, { auth: admin })).body,
      clients: (await api(`${node.url}/admin/clients`, { auth: admin })).body,
    };
    const job = await replay({ projection: 'all' });
    expect(job).toMatchObject({ state: 'done', targets: ['parameters', 'clients', 'refreshtokendetails', 'audit', 'keys'], applied: { parameters: 1, clients: 1, refreshtokendetails: expect.any(Number), audit: expect.any(Number), keys: 3 } });
    expect((await api(`${node.url}/admin/parameters`, { auth: admin })).body).toEqual(before.parameters);
    expect((await api(`${node.url}/admin/clients`, { auth: admin })).body).toEqual(before.clients);
    expect((await introspect(node.url, service, await clientCredentialsToken(node.url, service))).active).toBe(true);

    const kafka = await api(`${node.url}/admin/replay`, { method: 'POST', auth: admin, body: { projection: 'all', source: 'kafka' } });
    expect(kafka.status).toBe(400);
    expect(kafka.body.error_description).toBe('source "kafka" needs Kafka, and this server runs without it (embedded mode): replay from the store');
  });

  it('authz replay all (the CLI, as a process, finding the admin password itself): the count, the time and the rate; the same answers', async () => {
    const live = await answers();
    const run = await d.authz(['replay', 'all']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Replayed all from position 0 \(event store\): [\d,]+ events read in \d+\.\d s, [\d,]+ events\/s\.\n/);
    expect(run.stdout).toMatch(/parameters\s+1 events? applied/);
    expect(run.stdout).toMatch(/clients\s+1 events? applied/);
    expect(await answers()).toEqual(live);

    const unknown = await d.authz(['replay', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('error: no projection "nope": one of parameters, clients, refreshtokendetails, audit, keys, all');
  });

  it('keys: the node reloads its key cache; fingerprints unchanged, tokens still valid', async () => {
    const fingerprints = async () => (await api(`${node.url}/admin/cluster/keys`, { auth: admin })).body;
    const before = await fingerprints();
    expect(before.allMatch).toBe(true);
    const issued = await clientCredentialsToken(node.url, service);
    const reloads = () => node.output().split('key cache: reloaded').length - 1;
    const reloaded = reloads();
    expect(await replay({ projection: 'keys' })).toMatchObject({ state: 'done', targets: ['keys'], applied: { keys: 3 } });
    await waitFor(() => reloads() >= reloaded + 1, 30_000, 'the node to reload its key cache');
    const after = await fingerprints();
    expect({ allMatch: after.allMatch, keyRing: after.keyRing, nodes: after.nodes.map((n: any) => ({ nodeId: n.nodeId, keys: n.keys })) }).toEqual({
      allMatch: true,
      keyRing: before.keyRing,
      nodes: before.nodes.map((n: any) => ({ nodeId: n.nodeId, keys: n.keys })),
    });
    expect((await introspect(node.url, service, issued)).active).toBe(true);
    expect((await introspect(node.url, service, await clientCredentialsToken(node.url, service))).active).toBe(true);
  });

  it('answers bad requests with a 4xx that says what is wrong, never a 500', async () => {
    for (const [body, status, message] of BAD_REQUESTS) {
      const response = await api(`${node.url}/admin/replay`, { method: 'POST', auth: admin, body });
      expect({ body, status: response.status }).toEqual({ body, status });
      expect(response.body.error).toBe('invalid_request');
      expect(response.body.error_description).toMatch(message);
    }
    expect((await api(`${node.url}/admin/replay`, { method: 'POST', auth: admin, rawBody: 'projection=all', contentType: 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await api(`${node.url}/admin/replay`, { method: 'POST', auth: admin, rawBody: '{"projection":', contentType: 'application/json' })).status).toBe(400);
    expect((await api(`${node.url}/admin/replay`, { method: 'POST', body: { projection: 'all' } })).status).toBe(401);
    const missing = await api(`${node.url}/admin/replay/00000000-0000-0000-0000-000000000000`, { auth: admin });
    expect(missing.status).toBe(404);
    expect(missing.body.error_description).toContain('no such replay job on this node');
  });
});
