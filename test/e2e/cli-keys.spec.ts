import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describeModes, modesFromEnv, startDeployment, type Deployment } from '../support/deployment';
import { ROOT, waitFor } from '../support/infra';
import { clientBasic, form, introspect } from '../support/oauth';
import { api, type Node } from '../support/processes';

const LAUNCHER = resolve(ROOT, 'apps/authz-cli/bin/authz.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** util-linux `script` gives the CLI a real terminal; elsewhere (BSD script, none at all) that test is skipped. */
const HAS_SCRIPT = /util-linux/.test(spawnSync('script', ['--version'], { encoding: 'utf8' }).stdout ?? '');

const KINDS = ['signing', 'encryption'] as const;

/**
 * `authz show key`, `set key regen`, `cluster keys` and `clients add|list` as an operator runs
 * them: the real launcher and built dist/, in both modes. Embedded: in the directory that holds
 * the server's .authz-data (the CLI finds the admin password itself). Cluster: against node A
 * with the credentials in the environment; node B follows every regeneration through Kafka.
 */
describeModes(modesFromEnv(), 'authz CLI: keys and clients (%s mode)', (mode) => {
  let d: Deployment;
  let node: Node;
  /** The operator's working directory: embedded, where .authz-data is; cluster, an empty one. */
  let home: string;
  const cluster = mode === 'cluster';
  const NODE_ID = 'cli-keys-node';

  beforeAll(async () => {
    d = await startDeployment(mode, { name: 'clikeys', nodeIds: [NODE_ID, 'cli-keys-node-b'] });
    node = d.a;
    home = d.home ?? mkdtempSync(join(tmpdir(), 'authz-cli-keys-e2e-'));
  });

  afterAll(async () => {
    await d?.stop();
  });

  const env = (): Record<string, string> => ({
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    AUTHZ_URL: node.url,
    ...(cluster ? { AUTHZ_ADMIN_USER: d.adminUser, AUTHZ_ADMIN_PASSWORD: d.adminPassword } : {}),
  });

  function collect(child: ReturnType<typeof spawn>, onStdout?: (all: string) => void): Promise<Run> {
    return new Promise((done, fail) => {
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d) => {
        stdout += d;
        onStdout?.(stdout);
      });
      child.stderr!.on('data', (d) => (stderr += d));
      child.once('error', fail);
      child.once('close', (code) => done({ code, stdout, stderr }));
    });
  }

  /** The CLI with stdin a pipe (no terminal), in the operator's directory that holds .authz-data. */
  function authz(args: string[], options: { stdin?: string } = {}): Promise<Run> {
    const child = spawn(process.execPath, [LAUNCHER, ...args], { cwd: home, env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
    const run = collect(child);
    child.stdin!.end(options.stdin ?? '');
    return run;
  }

  /** The CLI on a pseudo-terminal (util-linux script): types `answer` once the question is on the screen. */
  function authzOnTerminal(args: string[], answer: string): Promise<Run> {
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const commandLine = [process.execPath, LAUNCHER, ...args].map(quote).join(' ');
    const child = spawn('script', ['-qec', commandLine, '/dev/null'], { cwd: home, env: { ...env(), TERM: 'dumb' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let answered = false;
    const run = collect(child, (all) => {
      // The terminal merges stderr (where the question goes) into what script prints.
      if (!answered && all.includes('[y/N]')) {
        answered = true;
        // Written, not ended: an EOF right behind the answer can reach the terminal before the CLI reads it.
        child.stdin!.write(`${answer}\r`);
      }
    });
    return run;
  }

  const admin = () => d.admin;
  const keys = async () => (await api(`${node.url}/admin/keys`, { auth: admin() })).body;
  const noStackTrace = (run: Run) => expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);

  const token = async (client: { clientId: string; clientSecret: string }) =>
    form(`${node.url}/oauth/token`, { grant_type: 'client_credentials' }, clientBasic(client.clientId, client.clientSecret));

  /** A confidential client made with the CLI, its secret read off the CLI's output. */
  async function addServiceClient(clientId: string): Promise<{ clientId: string; clientSecret: string; run: Run }> {
    const run = await authz(['clients', 'add', '--name', `Service ${clientId}`, '--type', 'confidential', '--id', clientId, '--scope', 'vm.read vm.write']);
    const secret = /Client secret:\s+(\S+)\n/.exec(run.stdout)?.[1];
    return { clientId, clientSecret: secret ?? '', run };
  }

  describe('show key', () => {
    it.each(KINDS)('%s: the hash, kid and creation date of the ring, and that this node holds the same key', async (kind) => {
      const ring = await keys();
      const run = await authz(['show', 'key', kind]);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toContain(`Authz ${kind} key\n`);
      expect(run.stdout).toMatch(new RegExp(`Hash:\\s+${ring[kind].fingerprint}\\n`));
      expect(run.stdout).toMatch(new RegExp(`Key id \\(kid\\):\\s+${ring[kind].kid}\\n`));
      expect(run.stdout).toMatch(new RegExp(`Created:\\s+${ring[kind].createdAt}\\n`));
      expect(run.stdout).toMatch(/This node:\s+cli-keys-node holds the same key\n/);

      const json = await authz(['show', 'key', kind, '--json']);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual({
        kind,
        clusterId: ring.clusterId,
        kid: ring[kind].kid,
        fingerprint: ring[kind].fingerprint,
        createdAt: ring[kind].createdAt,
        node: { nodeId: 'cli-keys-node', fingerprint: ring[kind].fingerprint, matches: true },
      });
    });

    it('the two keys differ; an unknown kind is a usage error', async () => {
      const [signing, encryption] = await Promise.all(KINDS.map(async (kind) => JSON.parse((await authz(['show', 'key', kind, '--json'])).stdout)));
      expect(signing.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(signing.fingerprint).not.toBe(encryption.fingerprint);

      const bad = await authz(['show', 'key', 'authz']);
      expect(bad.code).toBe(2);
      expect(bad.stdout).toBe('');
      expect(bad.stderr).toContain("Allowed choices are signing, encryption");
    });
  });

  describe('clients list', () => {
    it('lists every registered client, never a secret, and the admin API pages them', async () => {
      await addServiceClient('list-a');
      await addServiceClient('list-b');
      // Clients are listed from their projection: the projector's lag, in a cluster.
      if (cluster) await d.caughtUp();
      const run = await authz(['clients', 'list']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/Client id\s+Type\s+Grants\s+Scope\s+Name/);
      expect(run.stdout).toMatch(/list-a\s+confidential\s+client_credentials\s+vm\.read vm\.write\s+Service list-a/);
      const json = JSON.parse((await authz(['clients', 'list', '--json'])).stdout);
      expect(json.map((c: { clientId: string }) => c.clientId)).toEqual(expect.arrayContaining(['list-a', 'list-b']));
      expect(JSON.stringify(json)).not.toContain('clientSecret');

      const first = await api(`${node.url}/admin/clients?limit=1`, { auth: admin() });
      expect(first.body.clients).toHaveLength(1);
      const second = await api(`${node.url}/admin/clients?limit=1&cursor=${first.body.nextCursor}`, { auth: admin() });
      expect(second.body.clients[0].clientId > first.body.clients[0].clientId).toBe(true);
      for (const bad of ['limit=0', 'limit=501', 'limit=abc', "cursor=x'%20OR%201=1", `cursor=${'a'.repeat(200)}`]) {
        const response = await api(`${node.url}/admin/clients?${bad}`, { auth: admin() });
        expect(response.status).toBe(400);
        expect(response.body.error).toBe('invalid_request');
      }
    });
  });

  describe('clients add', () => {
    it('a confidential client: printed with its secret once and a warning; the secret then gets a token', async () => {
      const client = await addServiceClient('voicemail');
      expect(client.run.stderr).toBe('');
      expect(client.run.code).toBe(0);
      expect(client.run.stdout).toContain('Created confidential client "voicemail"');
      expect(client.run.stdout).toMatch(/Name:\s+Service voicemail\n/);
      expect(client.run.stdout).toMatch(/Grant types:\s+client_credentials\n/);
      expect(client.run.stdout).toMatch(/Scope:\s+vm\.read vm\.write\n/);
      expect(client.run.stdout).toContain('it is not shown again');
      expect(client.clientSecret).toMatch(/^[A-Za-z0-9_-]{20,}$/);

      const response = await token(client);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ token_type: expect.stringMatching(/^bearer$/i), access_token: expect.any(String) });
      expect((await introspect(node.url, client, response.body.access_token)).active).toBe(true);

      const wrong = await token({ clientId: 'voicemail', clientSecret: 'not-the-secret' });
      expect(wrong.status).toBe(401);
    });

    it('a public client: no secret, no warning; --json is pure JSON', async () => {
      const run = await authz(['clients', 'add', '--name', 'Jabber', '--type', 'public', '--redirect-uri', 'https://jabber.example/cb', '--grant', 'authorization_code,refresh_token', '--json']);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      const client = JSON.parse(run.stdout);
      expect(client).toMatchObject({
        clientName: 'Jabber',
        type: 'public',
        redirectUris: ['https://jabber.example/cb'],
        grantTypes: ['authorization_code', 'refresh_token'],
      });
      expect(client.clientId).toMatch(/^[0-9a-f-]{36}$/);
      expect(client).not.toHaveProperty('clientSecret');
    });

    it('a bad type: exit 1 with the server\'s message, nothing created', async () => {
      const run = await authz(['clients', 'add', '--name', 'Odd', '--type', 'secret-ish', '--id', 'odd']);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe('error: type must be "public" or "confidential"\n');
      noStackTrace(run);
      // Not created: the same id is free for a good registration.
      expect((await authz(['clients', 'add', '--name', 'Odd', '--type', 'confidential', '--id', 'odd'])).code).toBe(0);
    });

    it('an existing id, a public client with client_credentials: exit 1, the server says why', async () => {
      const again = await authz(['clients', 'add', '--name', 'Again', '--type', 'confidential', '--id', 'voicemail']);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('client "voicemail" already exists');

      const publicService = await authz(['clients', 'add', '--name', 'P', '--type', 'public', '--grant', 'client_credentials']);
      expect(publicService.code).toBe(1);
      expect(publicService.stderr).toContain('a public client cannot use client_credentials');
    });

    it('missing --name or --type: exit 2, nothing sent', async () => {
      const run = await authz(['clients', 'add', '--type', 'public']);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("required option '--name <name>' not specified");
    });
  });

  describe('set key regen', () => {
    it('without --yes and without a terminal: exit 2, says why, nothing changes', async () => {
      const before = await keys();
      for (const kind of KINDS) {
        // Even a "yes" piped in is not a confirmation: only a terminal, or --yes, is.
        const run = await authz(['set', 'key', 'regen', kind], { stdin: 'yes\n' });
        expect(run.code).toBe(2);
        expect(run.stdout).toBe('');
        expect(run.stderr).toContain(`error: not regenerating the ${kind} key without confirmation: every access token issued under the current key would stop working`);
        expect(run.stderr).toContain('add --yes');
        noStackTrace(run);
      }
      expect(await keys()).toEqual(before);
    });

    it.each(KINDS)('%s --yes: a new key, shown by show key and held by this node; tokens issued before stop working', async (kind) => {
      const client = await addServiceClient(`svc-${kind}`);
      const old = (await token(client)).body.access_token as string;
      expect((await introspect(node.url, client, old)).active).toBe(true);
      const before = JSON.parse((await authz(['show', 'key', kind, '--json'])).stdout);

      const run = await authz(['set', 'key', 'regen', kind, '--yes']);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toContain(`Regenerated the ${kind} key.`);
      const fingerprint = /Hash:\s+([0-9a-f]{64})\n/.exec(run.stdout)?.[1];
      expect(fingerprint).toBeDefined();
      expect(fingerprint).not.toBe(before.fingerprint);

      const after = JSON.parse((await authz(['show', 'key', kind, '--json'])).stdout);
      expect(after).toMatchObject({ kind, fingerprint, node: { nodeId: 'cli-keys-node', fingerprint, matches: true } });
      expect(after.createdAt > before.createdAt).toBe(true);
      expect((await authz(['show', 'key', kind])).stdout).toMatch(/This node:\s+cli-keys-node holds the same key/);

      // What the warning says: the token issued under the old key is refused, a new one works.
      expect((await introspect(node.url, client, old)).active).toBe(false);
      expect((await introspect(node.url, client, (await token(client)).body.access_token)).active).toBe(true);

      const other = KINDS.find((k) => k !== kind)!;
      expect(after.fingerprint).not.toBe((await keys())[other].fingerprint);

      if (cluster) {
        // The other node follows through Kafka: it holds the new key and refuses the old token too.
        await waitFor(async () => (await api(`${d.b.url}/admin/keys`, { auth: admin() })).body.node?.[kind] === fingerprint, 15_000, 'node B to hold the new key');
        await waitFor(async () => !(await introspect(d.b.url, client, old)).active, 15_000, 'node B to refuse the old token');
        const onB = await authz(['--url', d.b.url, 'show', 'key', kind, '--json']);
        expect(JSON.parse(onB.stdout)).toMatchObject({ kind, fingerprint, node: { nodeId: 'cli-keys-node-b', fingerprint, matches: true } });
      }
    });

    (HAS_SCRIPT ? it : it.skip)('on a terminal: asks first, with the warning; "n" changes nothing, "y" regenerates', async () => {
      const before = await keys();
      const no = await authzOnTerminal(['set', 'key', 'regen', 'signing'], 'n');
      expect(no.code).toBe(1);
      expect(no.stdout).toContain('invalidates every access token issued under the current one');
      expect(no.stdout).toContain(`Current signing key: ${before.signing.fingerprint}`);
      expect(no.stdout).toContain('cancelled: the signing key is unchanged');
      expect(await keys()).toEqual(before);

      const yes = await authzOnTerminal(['set', 'key', 'regen', 'signing'], 'y');
      expect(yes.code).toBe(0);
      expect(yes.stdout).toContain('Regenerated the signing key.');
      const after = await keys();
      expect(after.signing.fingerprint).not.toBe(before.signing.fingerprint);
      expect(after.encryption).toEqual(before.encryption);
    });
  });

  describe('cluster keys', () => {
    it(`${cluster ? 'both nodes hold' : "the one embedded node holds"} the ring's keys: a matching row each, exit 0`, async () => {
      const ring = await keys();
      let run: Run = { code: null, stdout: '', stderr: '' };
      // Each node records what it holds as it takes a key: right after a regeneration, give it a moment.
      await waitFor(async () => (run = await authz(['cluster', 'keys'])).code === 0, 15_000, 'cluster keys to match');
      expect(run.stderr).toBe('');
      expect(run.stdout).toContain(`Key ring of cluster ${ring.clusterId}: signing ${ring.signing.fingerprint.slice(0, 16)}, encryption ${ring.encryption.fingerprint.slice(0, 16)}`);
      expect(run.stdout).toMatch(/Node\s+Signing\s+Encryption\s+Match\s+Last seen\n/);
      const rows = run.stdout.split('\n').filter((line) => d.nodeIds.includes(line.split(/\s+/)[0]));
      expect(rows).toHaveLength(d.nodeIds.length);
      for (const [i, nodeId] of d.nodeIds.entries()) {
        expect(rows[i]).toMatch(
          new RegExp(`^${nodeId}\\s+${ring.signing.fingerprint.slice(0, 16)}\\s+${ring.encryption.fingerprint.slice(0, 16)}\\s+yes\\s+\\d{4}-\\d\\d-\\d\\dT\\S+ \\(\\d+ (s|min) ago\\)$`),
        );
      }
      expect(run.stdout).not.toContain(' *');
      expect(run.stdout).toContain(cluster ? "All 2 nodes hold the key ring's keys." : "The one node holds the key ring's keys.");
    });

    it('--json: whole fingerprints, allMatch; --full in the table', async () => {
      const ring = await keys();
      const json = await authz(['cluster', 'keys', '--json']);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({
        keyRing: { clusterId: ring.clusterId, signing: ring.signing, encryption: ring.encryption },
        nodes: d.nodeIds.map((nodeId) => ({
          nodeId,
          keys: { signing: { fingerprint: ring.signing.fingerprint, matches: true }, encryption: { fingerprint: ring.encryption.fingerprint, matches: true } },
          matches: true,
        })),
        allMatch: true,
      });
      const full = await authz(['cluster', 'keys', '--full']);
      expect(full.code).toBe(0);
      for (const nodeId of d.nodeIds) {
        expect(full.stdout).toMatch(new RegExp(`${nodeId}\\s+${ring.signing.fingerprint}\\s+${ring.encryption.fingerprint}\\s+yes`));
      }
    });
  });

  it('help lists the new groups and the exit status of cluster keys', async () => {
    const top = await authz(['--help']);
    for (const group of ['clients', 'show', 'set', 'cluster']) expect(top.stdout).toMatch(new RegExp(`\\n  ${group} `));
    const clusterHelp = await authz(['cluster', 'keys', '--help']);
    expect(clusterHelp.stdout).toContain('Exit status 0 when every node holds the ring\'s keys, 1 otherwise');
    const regen = await authz(['set', 'key', 'regen', '--help']);
    expect(regen.stdout).toContain('--yes');
  });
});
