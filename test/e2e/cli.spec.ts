import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAuthz, type CliRun as Run } from '../support/cli';
import { describeModes, modesFromEnv, startDeployment, type Deployment } from '../support/deployment';
import { api, basic, freePort, type Node } from '../support/processes';

/**
 * The `authz` command as an operator runs it: a real process (the committed launcher and the
 * built dist/), talking to a real server over HTTP only, in both modes. Embedded: in the
 * directory that holds the server's .authz-data, the admin password found by the CLI itself.
 * Cluster: against node A, the admin's credentials in the environment.
 */
describeModes(modesFromEnv(), 'authz CLI: health, parameters and users (%s mode)', (mode) => {
  let d: Deployment;
  let node: Node;
  /** The operator's working directory: embedded, where the server's .authz-data is, as after `npm start`; cluster, an empty one. */
  let home: string;
  const cluster = mode === 'cluster';

  beforeAll(async () => {
    d = await startDeployment(mode, { name: 'cli', nodeIds: ['cli-node', 'cli-node-b'] });
    node = d.a;
    home = d.home ?? mkdtempSync(join(tmpdir(), 'authz-cli-e2e-'));
  });

  afterAll(async () => {
    await d?.stop();
  });

  const authz = (args: string[], options: { stdin?: string; env?: Record<string, string>; cwd?: string } = {}): Promise<Run> =>
    d.authz(args, { node, env: options.env, cwd: options.cwd ?? home, stdin: options.stdin });
  /** Cluster mode: the parameters are read from their projection; wait for it (embedded reads its writes at once). */
  const projected = async () => {
    if (cluster) await d.caughtUp();
  };

  const admin = () => d.admin;
  const historyLength = async () => {
    await projected();
    return (await api(`${node.url}/admin/parameters/history?limit=500`, { auth: admin() })).body.length;
  };
  const noStackTrace = (run: Run) => expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);

  it('health: prints the status and the checks, exit 0', async () => {
    const run = await authz(['health']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`up (node cli-node, ${mode} mode) at ${node.url}`);
    expect(run.stdout).toMatch(/database\s+up/);
    expect(run.stdout).toMatch(cluster ? /kafka\s+up/ : /transport\s+up/);

    const json = await authz(['health', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'up', mode, checks: { database: 'up' } });
  });

  it(`params get: the seed names and defaults, ${cluster ? 'the credentials from the environment' : 'with the embedded admin password found by itself'}`, async () => {
    const run = await authz(['params', 'get']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/OAuth with Refresh Login Flow\s+Disabled\s+refresh-login-flow/);
    expect(run.stdout).toMatch(/OAuth Access Token Expiry Timer \(minutes\)\s+60\s+access-token-expiry/);
    expect(run.stdout).toMatch(/OAuth Refresh Token Expiry Timer \(days\)\s+60\s+refresh-token-expiry/);
    expect(run.stdout).toContain('Never changed');

    const json = await authz(['params', 'get', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      oauthWithRefreshLoginFlow: 'Disabled',
      accessTokenExpiryMinutes: 60,
      refreshTokenExpiryDays: 60,
      refreshTokenRotation: 'Disabled',
      updatedAt: null,
      updatedBy: null,
      position: expect.any(Number),
    });
  });

  it('params set: aliases and API names, numbers as numbers; the change shows in get and history', async () => {
    const run = await authz(['params', 'set', 'access-token-expiry=30', 'refresh-login-flow=Enabled', 'refreshTokenExpiryDays=14']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/OAuth Access Token Expiry Timer \(minutes\)\s+30/);
    expect(run.stdout).toContain('Saved');

    await projected();
    const get = await authz(['params', 'get', '--json']);
    expect(JSON.parse(get.stdout)).toMatchObject({
      oauthWithRefreshLoginFlow: 'Enabled',
      accessTokenExpiryMinutes: 30,
      refreshTokenExpiryDays: 14,
      updatedBy: 'user:admin',
    });
    expect((await authz(['params', 'get'])).stdout).toMatch(/Last updated \S+ by user:admin/);

    const history = await authz(['params', 'history']);
    expect(history.code).toBe(0);
    // One event, one row per parameter, in the order `params get` lists them.
    expect(history.stdout).toMatch(/user:admin\s+cli-node\s+OAuth with Refresh Login Flow\s+Disabled -> Enabled\n/);
    expect(history.stdout).toMatch(/\n\s+OAuth Access Token Expiry Timer \(minutes\)\s+60 -> 30\n/);
    expect(history.stdout).toMatch(/OAuth Refresh Token Expiry Timer \(days\)\s+60 -> 14/);
  });

  it('params history --limit and --json', async () => {
    await authz(['params', 'set', 'access-token-expiry=45']);
    await projected();
    const run = await authz(['params', 'history', '--limit', '1', '--json']);
    expect(run.code).toBe(0);
    const changes = JSON.parse(run.stdout);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ actor: 'user:admin', nodeId: 'cli-node', changes: { accessTokenExpiryMinutes: 45 }, previous: { accessTokenExpiryMinutes: 30 } });

    const bad = await authz(['params', 'history', '--limit', '0']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('limit must be a whole number from 1 to 500');
  });

  it('params set out of range: exit 1 with the server\'s message, nothing changes', async () => {
    const before = await historyLength();
    const run = await authz(['params', 'set', 'accessTokenExpiryMinutes=1441', 'refresh-token-expiry=5']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('error: accessTokenExpiryMinutes must be a whole number of minutes from 1 to 1440\n');

    const unknown = await authz(['params', 'set', 'tokenColour=blue']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown parameter "tokenColour"');
    expect(await historyLength()).toBe(before);
  });

  it.each([[['accessTokenExpiryMinutes']], [['=30']], [['access-token-expiry=']], [[]]])(
    'params set %p: malformed, exit 2, no request',
    async (assignments) => {
      const before = await historyLength();
      const run = await authz(['params', 'set', ...assignments]);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/error: /);
      expect(run.stderr).toContain('authz params set');
      noStackTrace(run);
      expect(await historyLength()).toBe(before);
    },
  );

  describe('users add', () => {
    const passwordFile = () => join(home, 'reader-password');

    beforeAll(() => writeFileSync(passwordFile(), 'reader-password-1\n', { mode: 0o600 }));

    it('creates an account from --password-stdin whose credentials then work, but not for the admin API', async () => {
      const run = await authz(['users', 'add', 'reader', '--role', 'key-reader', '--password-stdin'], { stdin: 'reader-password-1\n' });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Created user "reader" with the role key-reader');

      // The password arrived without its line break: the account authenticates (403, not 401).
      expect((await api(`${node.url}/admin/parameters`, { auth: basic('reader', 'reader-password-1') })).status).toBe(403);

      const asReader = await authz(['--admin-user', 'reader', '--password-file', passwordFile(), 'params', 'get']);
      expect(asReader.code).toBe(4);
      expect(asReader.stdout).toBe('');
      expect(asReader.stderr).toContain('"reader" is not allowed to do this: this needs the role: admin');
    });

    it('an existing user: exit 1 with the server\'s message', async () => {
      const run = await authz(['users', 'add', 'reader', '--role', 'admin', '--password-stdin'], { stdin: 'another-password' });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('user "reader" already exists');
    });

    it('a short password or an unknown role: exit 1, the server says why', async () => {
      const short = await authz(['users', 'add', 'shorty', '--role', 'admin', '--password-stdin'], { stdin: 'short' });
      expect(short.code).toBe(1);
      expect(short.stderr).toContain('password must be 8 to 1024 characters');
      const role = await authz(['users', 'add', 'someone', '--role', 'superuser', '--password-stdin'], { stdin: 'long-enough-password' });
      expect(role.code).toBe(1);
      expect(role.stderr).toContain('roles must be a list of: admin, key-reader');
    });

    it('no password source and no terminal: exit 2, nothing created', async () => {
      const run = await authz(['users', 'add', 'nopass', '--role', 'admin']);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--password-stdin');
      const again = await authz(['users', 'add', 'nopass', '--role', 'admin', '--password-stdin'], { stdin: 'now-a-password' });
      expect(again.code).toBe(0);
    });

    it('a new admin made with the CLI can use it through the environment', async () => {
      await authz(['users', 'add', 'ops', '--role', 'admin', '--password-stdin'], { stdin: 'ops-password-1' });
      const elsewhere = mkdtempSync(join(tmpdir(), 'authz-cli-elsewhere-'));
      const run = await authz(['params', 'get', '--json'], { cwd: elsewhere, env: { AUTHZ_ADMIN_USER: 'ops', AUTHZ_ADMIN_PASSWORD: 'ops-password-1' } });
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).accessTokenExpiryMinutes).toBe(45);
    });
  });

  it('a wrong password: exit 4, says which credentials failed', async () => {
    const run = await authz(['params', 'get', '--password', 'wrong-password']);
    expect(run.code).toBe(4);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('authentication failed as "admin" (password from --password): unknown user or wrong password');
    noStackTrace(run);
  });

  it('no credentials at all (another directory, no terminal): exit 4 with a hint', async () => {
    // Nothing but the URL: no credentials in the environment (in either mode), no .authz-data here.
    const run = await runAuthz(['params', 'get'], { env: { AUTHZ_URL: node.url }, cwd: mkdtempSync(join(tmpdir(), 'authz-cli-nocreds-')) });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('authentication required');
    expect(run.stderr).toContain('--password-file');
  });

  it('an unreachable server: exit 3', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    for (const args of [['health'], ['--url', url, 'params', 'get']]) {
      const run = await authz(args, { env: { AUTHZ_URL: url } });
      expect(run.code).toBe(3);
      expect(run.stderr).toContain(`cannot reach the server at ${url}: connection refused`);
      noStackTrace(run);
    }
  });

  it('an unknown command or option: exit 2 with the help on stderr', async () => {
    const run = await authz(['tokens-please']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain("error: unknown command 'tokens-please'");
    expect(run.stderr).toContain('Usage: authz [options] [command]');

    const option = await authz(['params', 'get', '--colour']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option '--colour'");
  });

  it('help for the program and for each group', async () => {
    const top = await authz(['--help']);
    expect(top.code).toBe(0);
    for (const text of ['health', 'params', 'users', '--url', '--password-file', 'AUTHZ_URL', 'Exit status']) expect(top.stdout).toContain(text);

    const params = await authz(['params', '--help']);
    expect(params.code).toBe(0);
    for (const text of ['get', 'set', 'history', 'access-token-expiry', 'OAuth Refresh Token Expiry Timer (days)']) expect(params.stdout).toContain(text);

    const users = await authz(['users', 'add', '--help']);
    expect(users.code).toBe(0);
    expect(users.stdout).toContain('--password-stdin');
  });
});
