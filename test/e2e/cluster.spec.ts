import { randomBytes } from 'node:crypto';
import { KAFKA_BROKERS, createDatabase, uniqueName, waitFor } from '../support/infra';
import { api, basic, startNode, type Node } from '../support/processes';


/** Two server nodes and a projector sharing one real PostgreSQL and one real Kafka. */
describe('a cluster of two nodes and a projector', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let nodeA: Node;
  let nodeB: Node;
  let projector: Node;
  let env: Record<string, string>;
  const admin = basic('admin', 'cluster-admin-password');

  beforeAll(async () => {
    database = await createDatabase('authz_e2e');
    env = {
      AUTHZ_DATABASE_URL: database.url,
      AUTHZ_KAFKA_BROKERS: KAFKA_BROKERS,
      AUTHZ_KAFKA_TOPIC_PREFIX: uniqueName('e2e'),
      AUTHZ_ADMIN_USER: 'admin',
      AUTHZ_ADMIN_PASSWORD: 'cluster-admin-password',
      AUTHZ_RELAY_POLL_MS: '200',
      AUTHZ_KEK: randomBytes(32).toString('base64'),
    };
    // Both nodes start at once: one creates the admin account, the other finds it.
    [nodeA, nodeB] = await Promise.all([
      startNode('server', { ...env, AUTHZ_NODE_ID: 'node-a' }),
      startNode('server', { ...env, AUTHZ_NODE_ID: 'node-b' }),
    ]);
    projector = await startNode('projector', { ...env, AUTHZ_NODE_ID: 'projector-1' });
  });

  afterAll(async () => {
    await Promise.all([nodeA?.stop(), nodeB?.stop(), projector?.stop()]);
    await database?.drop();
  });

  const params = (node: Node) => api(`${node.url}/admin/parameters`, { auth: admin });
  const history = (node: Node) => api(`${node.url}/admin/parameters/history?limit=500`, { auth: admin });

  it('reports PostgreSQL and Kafka in its readiness, and exactly one relaying node', async () => {
    const [a, b] = [await api(`${nodeA.url}/health`), await api(`${nodeB.url}/health`)];
    for (const health of [a, b]) expect(health.body).toMatchObject({ status: 'up', mode: 'cluster', checks: { database: 'up', kafka: 'up' } });
    expect([a.body.checks.relay, b.body.checks.relay].sort()).toEqual(['active', 'standby']);
  });

  it('answers on node B a change made on node A, through Kafka and the projection', async () => {
    const put = await api(`${nodeA.url}/admin/parameters`, { method: 'PUT', auth: admin, body: { oauthWithRefreshLoginFlow: 'Enabled' } });
    expect(put.status).toBe(200);
    const seen = await waitFor(async () => {
      const response = await params(nodeB);
      return response.body.oauthWithRefreshLoginFlow === 'Enabled' && response.body;
    }, 30_000, 'node B to answer the change');
    expect(seen).toMatchObject({ updatedBy: 'user:admin', position: put.body.position });
  });

  it('rejects bad input and bad credentials on every node, appending nothing', async () => {
    const before = (await history(nodeA)).body.length;
    for (const node of [nodeA, nodeB]) {
      expect((await api(`${node.url}/admin/parameters`, { method: 'PUT', auth: admin, body: { refreshTokenExpiryDays: 0 } })).status).toBe(400);
      expect((await api(`${node.url}/admin/parameters`, { method: 'PUT', body: { refreshTokenExpiryDays: 5 } })).status).toBe(401);
    }
    await new Promise((r) => setTimeout(r, 500));
    expect((await history(nodeA)).body).toHaveLength(before);
  });

  it('rebuilds, after the projector is killed mid-stream and restarted, the read model it would build from position 0', async () => {
    const writes = Array.from({ length: 120 }, (_, i) => 200 + i);
    const writing = (async () => {
      for (const minutes of writes) {
        const node = minutes % 2 ? nodeA : nodeB;
        const response = await api(`${node.url}/admin/parameters`, { method: 'PUT', auth: admin, body: { accessTokenExpiryMinutes: minutes } });
        expect(response.status).toBe(200);
      }
    })();
    await waitFor(async () => (await history(nodeA)).body.length > 20, 60_000, 'the projector to be mid-stream');
    await projector.stop('SIGKILL');
    await writing;
    projector = await startNode('projector', { ...env, AUTHZ_NODE_ID: 'projector-1' });
    const live = await waitFor(async () => {
      const response = await params(nodeA);
      return response.body.accessTokenExpiryMinutes === writes.at(-1) && response.body;
    }, 120_000, 'the restarted projector to catch up');
    const liveHistory = (await history(nodeA)).body;
    expect(liveHistory).toHaveLength(writes.length + 1);

    await projector.stop();
    const rebuild = await startRebuild(env);
    expect(rebuild).toMatch(/rebuilt parameters: 121 events/);
    expect((await history(nodeA)).body).toEqual(liveHistory);
    expect((await params(nodeA)).body).toEqual(live);
    projector = await startNode('projector', { ...env, AUTHZ_NODE_ID: 'projector-1' });
  });

  it('keeps serving and relaying when the relaying node is killed', async () => {
    const relaying = (await api(`${nodeA.url}/health`)).body.checks.relay === 'active' ? nodeA : nodeB;
    const survivor = relaying === nodeA ? nodeB : nodeA;
    await relaying.stop('SIGKILL');
    const put = await api(`${survivor.url}/admin/parameters`, { method: 'PUT', auth: admin, body: { refreshTokenExpiryDays: 7 } });
    expect(put.status).toBe(200);
    await waitFor(async () => (await params(survivor)).body.refreshTokenExpiryDays === 7, 60_000, 'the survivor to relay');
    expect((await api(`${survivor.url}/health`)).body.checks.relay).toBe('active');
  });
});

async function startRebuild(env: Record<string, string>): Promise<string> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['dist/apps/projector/src/main.js', '--rebuild', 'parameters'], { env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}
