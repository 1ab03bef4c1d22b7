import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startDeployment, type Deployment } from '../support/deployment';
import { ROOT, waitFor } from '../support/infra';
import { clientCredentialsToken, serviceClient } from '../support/oauth';
import { api, freePort } from '../support/processes';

const run = promisify(execFile);

/**
 * examples/voicemail, the resource server of seed 000, as a third party runs it: its folder
 * copied beside @authz/token-validator installed from its `npm pack` tarball, and configured
 * with two authz clusters A and B (two embedded servers: two databases, two cluster ids).
 * A third cluster C is not configured.
 */
describe('examples/voicemail against two authz clusters', () => {
  const clusters: Record<'A' | 'B' | 'C', { d: Deployment; id: string; service: { clientId: string; clientSecret: string } }> = {} as never;
  const reader = { userId: 'voicemail-keys', password: 'voicemail-keys-password' };
  let folder: string;
  let voicemail: ChildProcess;
  let output = '';
  let url: string;

  const tokenOf = (name: 'A' | 'B' | 'C') => clientCredentialsToken(clusters[name].d.a.url, clusters[name].service);
  const call = async (token: string | undefined, method = 'GET') => {
    const response = await fetch(`${url}/voicemails`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: response.status, body: (await response.json()) as any, challenge: response.headers.get('www-authenticate') };
  };

  beforeAll(async () => {
    const start = async (name: 'A' | 'B' | 'C') => {
      const d = await startDeployment('embedded', { name: `vm${name.toLowerCase()}` });
      const created = await api(`${d.a.url}/admin/users`, { method: 'POST', auth: d.admin, body: { ...reader, roles: ['key-reader'] } });
      if (created.status !== 201) throw new Error(`key reader: ${created.status} ${JSON.stringify(created.body)}`);
      const service = await serviceClient(d.a.url, d.admin, `voicemail-${name}`, 'vm.read');
      const id = (await api(`${d.a.url}/admin/keys`, { auth: d.admin })).body.clusterId as string;
      clusters[name] = { d, id, service };
    };
    await Promise.all([start('A'), start('B'), start('C')]);

    folder = mkdtempSync(join(tmpdir(), 'authz-voicemail-'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', folder], { cwd: join(ROOT, 'libs/token-validator') });
    const [{ filename }] = JSON.parse(stdout.slice(stdout.indexOf('['))) as [{ filename: string }];
    writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'voicemail', private: true, type: 'module' }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(folder, filename)], { cwd: folder });
    copyFileSync(join(ROOT, 'examples/voicemail/server.mjs'), join(folder, 'server.mjs'));
    // Cluster A by two URLs (a dead node first: failover), cluster B by one; the validator's defaults.
    const dead = `http://127.0.0.1:${await freePort()}`;
    const credentials = { username: reader.userId, password: reader.password };
    const servers = [dead, clusters.A.d.a.url, clusters.B.d.a.url].map((u) => ({ url: u, credentials }));
    writeFileSync(join(folder, 'voicemail.json'), JSON.stringify({ servers }));

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    voicemail = spawn(process.execPath, ['server.mjs'], { cwd: folder, env: { PATH: process.env.PATH, PORT: String(port), VOICEMAIL_CONFIG: 'voicemail.json' } });
    voicemail.stdout!.on('data', (d) => (output += d));
    voicemail.stderr!.on('data', (d) => (output += d));
    await waitFor(async () => (await fetch(`${url}/health`).catch(() => undefined))?.ok, 20_000, `voicemail on ${url}`);
  });

  afterAll(async () => {
    if (voicemail && voicemail.exitCode === null) {
      const exited = new Promise((r) => voicemail.once('exit', r));
      voicemail.kill('SIGTERM');
      await exited;
    }
    await Promise.all(Object.values(clusters).map((c) => c.d.stop()));
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('accepts the tokens of both clusters, each routed to its own cluster, and refuses a request without one', async () => {
    expect(clusters.A.id).not.toBe(clusters.B.id);
    const a = await call(await tokenOf('A'));
    expect(a).toMatchObject({ status: 200, body: { user: 'voicemail-A', cluster: clusters.A.id, messages: [] } });
    const b = await call(await tokenOf('B'));
    expect(b).toMatchObject({ status: 200, body: { user: 'voicemail-B', cluster: clusters.B.id } });
    expect(await call(undefined)).toMatchObject({ status: 401, body: { error: 'invalid_request' } });
    // Scope vm.write was not granted.
    expect(await call(await tokenOf('A'), 'POST')).toMatchObject({ status: 403, body: { error: 'insufficient_scope' } });

    const status = (await api(`${url}/keys`)).body;
    const byId = Object.fromEntries(status.clusters.map((c: { clusterId: string }) => [c.clusterId, c]));
    expect(byId[clusters.A.id]).toMatchObject({ from: clusters.A.d.a.url, urls: [clusters.A.d.a.url] });
    expect(byId[clusters.B.id]).toMatchObject({ from: clusters.B.d.a.url });
    expect(status.unassigned).toHaveLength(1); // the dead node
  });

  it('refuses a token of a cluster it is not configured with, with its code', async () => {
    const c = await call(await tokenOf('C'));
    expect(c.status).toBe(401);
    expect(c.body).toMatchObject({ error: 'invalid_token', code: 'unknown_cluster' });
    expect(c.body.error_description).toContain(clusters.C.id);
    expect(c.challenge).toContain('error="invalid_token"');
  });

  it('refuses a forged or tampered token', async () => {
    const token = await tokenOf('A');
    expect((await call(token.slice(0, -6) + 'AAAAAA')).body).toMatchObject({ code: 'bad_signature' });
    expect((await call('not.a.token')).body).toMatchObject({ code: 'malformed' });
  });

  it('after a signing key regeneration on A: refuses A’s old tokens, accepts new ones, keeps accepting B’s, all without a restart', async () => {
    const oldA = await tokenOf('A');
    const oldB = await tokenOf('B');
    expect((await call(oldA)).status).toBe(200);
    const pid = voicemail.pid;

    const regenerated = await api(`${clusters.A.d.a.url}/admin/keys/signing/regenerate`, { method: 'POST', auth: clusters.A.d.admin });
    expect(regenerated.status).toBe(200);
    const newA = await waitFor(async () => {
      const token = await tokenOf('A');
      return token.split('.')[0] !== oldA.split('.')[0] && token;
    }, 15_000, 'a token under the new key');
    // The first token under the new kid makes the validator refetch A's keys once.
    expect(await call(newA)).toMatchObject({ status: 200, body: { cluster: clusters.A.id } });
    const refused = await call(oldA);
    expect(refused).toMatchObject({ status: 401, body: { error: 'invalid_token', code: 'unknown_key' } });
    expect((await call(oldB)).status).toBe(200);
    expect((await call(await tokenOf('B'))).status).toBe(200);
    expect(voicemail.pid).toBe(pid);
    expect(voicemail.exitCode).toBeNull();
    expect(output).not.toMatch(/Error/);
  });
});
