import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describeModes, modesFromEnv, startDeployment, type Deployment } from '../support/deployment';
import { waitFor } from '../support/infra';
import { api, basic, type Node } from '../support/processes';

/**
 * The README's first command on a bare machine (embedded mode: no PostgreSQL or Kafka
 * configured) and the same on a cluster (two nodes and a projector): serves /health and the
 * parameters API (seed S9). In a cluster the change is made on node A and read on node B.
 */
describeModes(modesFromEnv(), 'authz-server: health and the parameters API (%s mode)', (mode) => {
  let d: Deployment;
  let node: Node;
  let admin: string;
  const cluster = mode === 'cluster';

  beforeAll(async () => {
    d = await startDeployment(mode, { name: 'params' });
    node = d.a;
    if (!cluster) {
      // The generated admin password is for the operator only.
      expect(statSync(join(d.dataDir!, 'admin-password')).mode & 0o777).toBe(0o600);
    }
    admin = d.admin;
  });

  afterAll(async () => {
    await d?.stop();
  });

  const parameters = (options: Parameters<typeof api>[1] = {}) => api(`${node.url}/admin/parameters`, { auth: admin, ...options });

  it('prints where it listens and how to reach the admin API', () => {
    for (const each of d.nodes) {
      // The banner is log lines (README, Logs): its text is their messages.
      const banner = each
        .output()
        .split('\n')
        .flatMap((line) => {
          try {
            return [String(JSON.parse(line).message)];
          } catch {
            return [];
          }
        })
        .join('\n');
      expect(banner).toContain(`listening on ${each.url}`);
      expect(banner).toContain(`${mode} mode`);
      expect(banner).toContain(cluster ? 'admin:       user "admin"' : 'admin-password');
    }
  });

  it(cluster ? 'is live and ready with PostgreSQL and Kafka, on every node' : 'is live and ready without Kafka or PostgreSQL running', async () => {
    for (const each of d.nodes) {
      const health = await api(`${each.url}/health`);
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ status: 'up', mode, checks: cluster ? { database: 'up', kafka: 'up' } : { database: 'up', transport: 'up' } });
      expect((await api(`${each.url}/health/live`)).status).toBe(200);
    }
  });

  it('answers the seed defaults, then a change made through the command, the event and the projection', async () => {
    const before = await parameters();
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ oauthWithRefreshLoginFlow: 'Disabled', accessTokenExpiryMinutes: 60, refreshTokenExpiryDays: 60 });

    const put = await parameters({ method: 'PUT', body: { oauthWithRefreshLoginFlow: 'Enabled', refreshTokenExpiryDays: 30 } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ oauthWithRefreshLoginFlow: 'Enabled', refreshTokenExpiryDays: 30, accessTokenExpiryMinutes: 60 });

    // Embedded: read back at once. Cluster: on the other node, once the projector applied it.
    const after = cluster
      ? await waitFor(async () => {
          const seen = await api(`${d.b.url}/admin/parameters`, { auth: admin });
          return seen.body.oauthWithRefreshLoginFlow === 'Enabled' && seen;
        }, 30_000, 'node B to answer the change')
      : await parameters();
    expect(after.body).toMatchObject({ oauthWithRefreshLoginFlow: 'Enabled', refreshTokenExpiryDays: 30, updatedBy: 'user:admin' });
    expect(after.body.position).toBeGreaterThanOrEqual(put.body.position);

    for (const each of d.nodes) {
      const history = await api(`${each.url}/admin/parameters/history`, { auth: admin });
      expect(history.body[0]).toMatchObject({ actor: 'user:admin', nodeId: d.nodeIds[0], changes: { oauthWithRefreshLoginFlow: 'Enabled', refreshTokenExpiryDays: 30 } });
    }
  });

  describe('bad input changes nothing', () => {
    let historyLength: number;
    beforeAll(async () => {
      historyLength = (await api(`${node.url}/admin/parameters/history?limit=500`, { auth: admin })).body.length;
    });
    afterAll(async () => {
      // Cluster: whatever was appended would have reached the projection by now.
      await d.caughtUp();
      expect((await api(`${node.url}/admin/parameters/history?limit=500`, { auth: admin })).body).toHaveLength(historyLength);
    });

    it.each([
      ['out of range minutes', { accessTokenExpiryMinutes: 1441 }, /from 1 to 1440/],
      ['zero minutes', { accessTokenExpiryMinutes: 0 }, /from 1 to 1440/],
      ['out of range days', { refreshTokenExpiryDays: 91 }, /from 1 to 90/],
      ['a string for a number', { refreshTokenExpiryDays: '30' }, /whole number/],
      ['a lowercase switch', { oauthWithRefreshLoginFlow: 'enabled' }, /"Enabled" or "Disabled"/],
      ['an unknown parameter', { tokenColour: 'blue' }, /unknown parameter "tokenColour"/],
      ['a valid value beside a bad one', { accessTokenExpiryMinutes: 10, refreshTokenExpiryDays: 0 }, /from 1 to 90/],
      ['an empty object', {}, /names no parameter/],
      ['an array', [1, 2], /JSON object/],
      ['null', null, /JSON object is expected/],
    ])('%s → 400 with a clear message', async (_, body, message) => {
      const response = await parameters({ method: 'PUT', body });
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_request');
      expect(response.body.error_description).toMatch(message);
    });

    it('malformed JSON → 400', async () => {
      const response = await parameters({ method: 'PUT', rawBody: '{"accessTokenExpiryMinutes": ' });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: 'invalid_request', error_description: 'the body is not valid JSON (a JSON object is expected)' });
    });

    it('a body over the size limit → 413', async () => {
      const response = await parameters({ method: 'PUT', rawBody: JSON.stringify({ x: 'a'.repeat(100_000) }) });
      expect(response.status).toBe(413);
    });

    it('a form instead of JSON → 415', async () => {
      const response = await parameters({ method: 'PUT', rawBody: 'accessTokenExpiryMinutes=5', contentType: 'application/x-www-form-urlencoded' });
      expect(response.status).toBe(415);
    });

    it.each([
      ['no credentials', undefined],
      ['a wrong password', basic('admin', 'wrong-password')],
      ['an unknown user', basic('mallory', 'whatever-password')],
      ['a malformed header', 'Basic !!!not-base64'],
      ['another scheme', 'Bearer abc'],
    ])('%s → 401 with a Basic challenge', async (_, auth) => {
      const response = await api(`${node.url}/admin/parameters`, { method: 'PUT', auth, body: { accessTokenExpiryMinutes: 5 } });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('Basic');
      expect(response.body.error).toBe('invalid_client');
      expect((await api(`${node.url}/admin/parameters`, { auth })).status).toBe(401);
    });

    it('an account without the admin role → 403', async () => {
      const created = await api(`${node.url}/admin/users`, { method: 'POST', auth: admin, body: { userId: 'reader', password: 'reader-password', roles: ['key-reader'] } });
      expect(created.status).toBe(201);
      const response = await parameters({ method: 'PUT', auth: basic('reader', 'reader-password'), body: { accessTokenExpiryMinutes: 5 } });
      expect(response.status).toBe(403);
    });

    it('bad history limits → 400', async () => {
      for (const limit of ['0', '501', 'abc', '1.5', '-1']) {
        expect((await api(`${node.url}/admin/parameters/history?limit=${limit}`, { auth: admin })).status).toBe(400);
      }
    });
  });

  it('keeps its data across a restart', async () => {
    node = await d.restart(node);
    const response = await parameters();
    expect(response.body).toMatchObject({ oauthWithRefreshLoginFlow: 'Enabled', refreshTokenExpiryDays: 30 });
  });
});
