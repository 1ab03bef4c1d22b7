import { describeModes, modesFromEnv, startDeployment, type Deployment } from '../support/deployment';
import { waitFor } from '../support/infra';
import { api, basic, type Node } from '../support/processes';

/**
 * Two server nodes and a projector sharing one real PostgreSQL and one real Kafka: the relay
 * (one node at a time, taken over when it dies), changes crossing nodes through Kafka, the
 * projector killed mid-stream. Needs Kafka and several processes: cluster mode only (the
 * parameters API itself runs in both modes in embedded-server.spec.ts).
 */
describeModes(modesFromEnv(['cluster']), 'a cluster of two nodes and a projector (%s mode)', (mode) => {
  let d: Deployment;
  let nodeA: Node;
  let nodeB: Node;
  const admin = basic('admin', 'cluster-admin-password');

  beforeAll(async () => {
    // Both nodes start at once: one creates the admin account, the other finds it.
    d = await startDeployment(mode, { name: 'e2e', adminPassword: 'cluster-admin-password', env: { AUTHZ_RELAY_POLL_MS: '200' } });
    [nodeA, nodeB] = [d.a, d.b];
  });

  afterAll(async () => {
    await d?.stop();
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
    expect(await d.stopProjector('SIGKILL')).toBe(true);
    await writing;
    expect(await d.startProjector()).toBe(true);
    const live = await waitFor(async () => {
      const response = await params(nodeA);
      return response.body.accessTokenExpiryMinutes === writes.at(-1) && response.body;
    }, 120_000, 'the restarted projector to catch up');
    const liveHistory = (await history(nodeA)).body;
    expect(liveHistory).toHaveLength(writes.length + 1);

    expect(await d.stopProjector()).toBe(true);
    const rebuild = await startRebuild(d.env);
    expect(rebuild).toMatch(/rebuilt parameters: 121 events/);
    expect((await history(nodeA)).body).toEqual(liveHistory);
    expect((await params(nodeA)).body).toEqual(live);
    expect(await d.startProjector()).toBe(true);
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
