import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { run } from './cli';
import { ago, clusterKeysTable } from './commands/cluster';
import { parseAssignments } from './commands/params';
import { progressLine, type ReplayJob } from './commands/replay';
import { resolveCredentials, resolveUrl } from './connection';
import { CliError, EXIT } from './errors';
import type { Io } from './io';
import { table } from './output';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: unknown;
}

/** Runs the CLI in-process against a scripted server. */
async function cli(
  argv: string[],
  answer: (call: Call) => { status: number; body?: unknown } | Error = () => ({ status: 200, body: {} }),
  options: { env?: Record<string, string>; stdin?: string; cwd?: string; tty?: boolean; stderrTty?: boolean } = {},
) {
  let stdout = '';
  let stderr = '';
  const calls: Call[] = [];
  const fakeFetch = (async (input: URL, init: RequestInit) => {
    const call: Call = {
      url: String(input),
      method: String(init.method),
      headers: init.headers as Record<string, string>,
      body: init.body === undefined ? undefined : JSON.parse(String(init.body)),
    };
    calls.push(call);
    const result = answer(call);
    if (result instanceof Error) throw result;
    return new Response(result.body === undefined ? null : typeof result.body === 'string' ? result.body : JSON.stringify(result.body), {
      status: result.status,
    });
  }) as unknown as typeof fetch;
  const io: Io = {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    stdin: Object.assign(Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]), { isTTY: options.tty }),
    stderrIsTTY: options.stderrTty,
    env: options.env ?? {},
    cwd: options.cwd ?? mkdtempSync(join(tmpdir(), 'authz-cli-')),
    fetch: fakeFetch,
  };
  const code = await run(argv, io);
  return { code, stdout, stderr, calls };
}

const refused = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) });

describe('params set name=value parsing', () => {
  it('takes the API names and the short aliases, numbers as numbers', () => {
    expect(parseAssignments(['access-token-expiry=30', 'refreshTokenExpiryDays=7', 'refresh-login-flow=Enabled'])).toEqual({
      accessTokenExpiryMinutes: 30,
      refreshTokenExpiryDays: 7,
      oauthWithRefreshLoginFlow: 'Enabled',
    });
  });

  it('spells the switch as the API does, whatever the case typed', () => {
    expect(parseAssignments(['refresh-login-flow=disabled'])).toEqual({ oauthWithRefreshLoginFlow: 'Disabled' });
  });

  it('leaves values and names it does not know to the server', () => {
    expect(parseAssignments(['access-token-expiry=abc', 'tokenColour=blue', 'refresh-login-flow=on'])).toEqual({
      accessTokenExpiryMinutes: 'abc',
      tokenColour: 'blue',
      oauthWithRefreshLoginFlow: 'on',
    });
  });

  it.each([[['accessTokenExpiryMinutes']], [['=5']], [['access-token-expiry=']], [['a b=1']], [[]], [['access-token-expiry=5', 'accessTokenExpiryMinutes=6']]])(
    'rejects %p as a usage error',
    (args) => {
      expect(() => parseAssignments(args)).toThrow(CliError);
      try {
        parseAssignments(args);
      } catch (error) {
        expect((error as CliError).exitCode).toBe(EXIT.usage);
      }
    },
  );
});

describe('connection', () => {
  it('takes --url, then AUTHZ_URL, then the local default; rejects what is not http(s)', () => {
    expect(resolveUrl('http://h:1/base', {}).href).toBe('http://h:1/base/');
    expect(resolveUrl(undefined, { AUTHZ_URL: 'https://a.example' }).href).toBe('https://a.example/');
    expect(resolveUrl(undefined, {}).href).toBe('http://127.0.0.1:8080/');
    for (const bad of ['nope', 'ftp://x', 'http://u:p@h']) expect(() => resolveUrl(bad, {})).toThrow(CliError);
  });

  function io(env: Record<string, string>, cwd: string): Io {
    return { stdout: () => {}, stderr: () => {}, stdin: Readable.from([]), env, cwd, fetch };
  }

  it('uses the embedded server\'s password file for admin on this machine only', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'authz-cli-'));
    mkdirSync(join(cwd, '.authz-data'));
    writeFileSync(join(cwd, '.authz-data', 'admin-password'), 'generated\n');
    const local = await resolveCredentials({}, io({}, cwd), new URL('http://127.0.0.1:8080/'));
    expect(local).toMatchObject({ user: 'admin', password: 'generated' });
    expect(await resolveCredentials({}, io({}, cwd), new URL('https://authz.example/'))).toBeUndefined();
    expect(await resolveCredentials({ adminUser: 'ops' }, io({}, cwd), new URL('http://127.0.0.1:8080/'))).toBeUndefined();
  });

  it('prefers options to the environment, and a file to AUTHZ_ADMIN_PASSWORD', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'authz-cli-'));
    writeFileSync(join(cwd, 'pw'), 'from-file\r\n');
    const env = { AUTHZ_ADMIN_USER: 'ops', AUTHZ_ADMIN_PASSWORD: 'from-env' };
    const url = new URL('http://127.0.0.1:8080/');
    expect(await resolveCredentials({}, io(env, cwd), url)).toMatchObject({ user: 'ops', password: 'from-env' });
    expect(await resolveCredentials({ adminUser: 'x', passwordFile: 'pw' }, io(env, cwd), url)).toMatchObject({ user: 'x', password: 'from-file' });
    expect(await resolveCredentials({ password: 'p' }, io(env, cwd), url)).toMatchObject({ user: 'ops', password: 'p' });
    await expect(resolveCredentials({ passwordFile: 'missing' }, io(env, cwd), url)).rejects.toThrow(/cannot read/);
  });
});

describe('authz (in-process, scripted server)', () => {
  const admin = { env: { AUTHZ_ADMIN_USER: 'admin', AUTHZ_ADMIN_PASSWORD: 'secret-pw', AUTHZ_URL: 'http://srv:1' } };

  it('sends Basic credentials and JSON, and prints the server\'s answer', async () => {
    const result = await cli(['params', 'set', 'access-token-expiry=30'], () => ({ status: 200, body: { accessTokenExpiryMinutes: 30, position: 3 } }), admin);
    expect(result.code).toBe(0);
    expect(result.calls[0]).toMatchObject({
      url: 'http://srv:1/admin/parameters',
      method: 'PUT',
      body: { accessTokenExpiryMinutes: 30 },
      headers: { authorization: `Basic ${Buffer.from('admin:secret-pw').toString('base64')}`, 'content-type': 'application/json' },
    });
    expect(result.calls[0].headers['x-correlation-id']).toMatch(/^cli-/);
    expect(result.stdout).toContain('OAuth Access Token Expiry Timer (minutes)  30');
  });

  it.each([
    [400, { error: 'invalid_request', error_description: 'accessTokenExpiryMinutes must be from 1 to 1440' }, EXIT.refused, 'error: accessTokenExpiryMinutes must be from 1 to 1440'],
    [409, { error: 'conflict', error_description: 'user "x" already exists' }, EXIT.refused, 'already exists'],
    [401, { error: 'invalid_client', error_description: 'unknown user or wrong password' }, EXIT.auth, 'authentication failed as "admin" (password from AUTHZ_ADMIN_PASSWORD)'],
    [403, { error: 'access_denied', error_description: 'this needs the role: admin' }, EXIT.auth, 'not allowed'],
    [500, { error: 'server_error', error_description: 'internal error' }, EXIT.refused, 'correlation id cli-'],
    [502, '<html>Bad Gateway</html>', EXIT.refused, 'HTTP 502'],
  ])('HTTP %d → exit %#', async (status, body, code, message) => {
    const result = await cli(['params', 'get'], () => ({ status, body }), admin);
    expect(result.code).toBe(code);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe('');
  });

  it.each(['ECONNREFUSED', 'ENOTFOUND'])('%s → exit 3', async (code) => {
    const result = await cli(['health'], () => refused(code), admin);
    expect(result.code).toBe(EXIT.unreachable);
    expect(result.stderr).toContain('cannot reach the server at http://srv:1');
  });

  it('health: 503 prints the checks and exits 1; no credentials are sent', async () => {
    const result = await cli(['health'], () => ({ status: 503, body: { status: 'down', checks: { database: 'up', kafka: 'down' } } }), admin);
    expect(result.code).toBe(EXIT.refused);
    expect(result.stdout).toMatch(/kafka\s+down/);
    expect(result.calls[0].headers.authorization).toBeUndefined();
  });

  it('users add: the password from stdin, the roles repeated or comma-separated', async () => {
    const result = await cli(
      ['users', 'add', 'ops', '--role', 'admin', '--role', 'key-reader,admin', '--password-stdin'],
      (call) => ({ status: 201, body: { userId: 'ops', roles: (call.body as { roles: string[] }).roles } }),
      { ...admin, stdin: 'new-password\n' },
    );
    expect(result.code).toBe(0);
    expect(result.calls[0].body).toEqual({ userId: 'ops', password: 'new-password', roles: ['admin', 'key-reader', 'admin'] });
  });

  it('users add without --role: an end user, roles [] sent, said so', async () => {
    const result = await cli(
      ['users', 'add', 'alice', '--password-stdin'],
      (call) => ({ status: 201, body: { userId: 'alice', roles: (call.body as { roles: string[] }).roles } }),
      { ...admin, stdin: 'alice-password\n' },
    );
    expect(result.code).toBe(0);
    expect(result.calls.map((c) => `${c.method} ${c.url}`)).toEqual(['POST http://srv:1/admin/users']);
    expect(result.calls[0].body).toEqual({ userId: 'alice', password: 'alice-password', roles: [] });
    expect(result.stdout).toBe('Created end user "alice" (no role: signs in at /oauth/authorize, no admin or key access).\n');
    expect(result.stderr).toBe('');
  });

  it('users add --help says how to add an end user', async () => {
    const result = await cli(['users', 'add', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('authz users add alice');
    expect(result.stdout).not.toMatch(/--role <role>.*\(required\)/);
  });

  it('users add without a password source and no terminal → usage error, nothing sent', async () => {
    const result = await cli(['users', 'add', 'ops', '--role', 'admin'], undefined, admin);
    expect(result.code).toBe(EXIT.usage);
    expect(result.calls).toHaveLength(0);
  });

  it.each([[['nope']], [['params', 'get', '--bogus']], [['params', 'set']], [['params', 'history', '--limit', 'x']], [[]]])(
    '%p → exit 2 with help on stderr, nothing sent',
    async (argv) => {
      const result = await cli(argv, undefined, admin);
      expect(result.code).toBe(EXIT.usage);
      expect(result.stderr).toContain('Usage: authz');
      expect(result.calls).toHaveLength(0);
    },
  );

  it('--help → exit 0 on stdout', async () => {
    const result = await cli(['params', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: authz params');
    expect(result.stdout).toContain('access-token-expiry');
  });
});

describe('keys and clients (in-process, scripted server)', () => {
  const admin = { env: { AUTHZ_ADMIN_USER: 'admin', AUTHZ_ADMIN_PASSWORD: 'secret-pw', AUTHZ_URL: 'http://srv:1' } };
  const fp = (c: string) => c.repeat(64);
  const ring = {
    clusterId: 'c1',
    signing: { kid: `c1:${fp('a')}`, fingerprint: fp('a'), createdAt: '2026-01-01T00:00:00.000Z' },
    encryption: { kid: `c1:${fp('b')}`, fingerprint: fp('b'), createdAt: '2026-01-01T00:00:00.000Z' },
  };
  const regenerated = { kind: 'signing', kid: `c1:${fp('c')}`, fingerprint: fp('c'), createdAt: '2026-02-01T00:00:00.000Z', position: 9 };
  const keysServer = (call: Call) =>
    call.method === 'GET' ? { status: 200, body: { ...ring, node: { nodeId: 'n1', signing: fp('a'), encryption: fp('b') } } } : { status: 200, body: regenerated };

  it('show key: the hash, kid, date and whether the answering node holds it', async () => {
    const result = await cli(['show', 'key', 'signing'], keysServer, admin);
    expect(result.code).toBe(0);
    expect(result.calls.map((c) => `${c.method} ${c.url}`)).toEqual(['GET http://srv:1/admin/keys']);
    expect(result.stdout).toMatch(new RegExp(`Hash:\\s+${fp('a')}\\n`));
    expect(result.stdout).toMatch(/Created:\s+2026-01-01T00:00:00.000Z/);
    expect(result.stdout).toMatch(/This node:\s+n1 holds the same key/);

    const stale = await cli(['show', 'key', 'encryption', '--json'], () => ({ status: 200, body: { ...ring, node: { nodeId: 'n1', signing: fp('a'), encryption: fp('d') } } }), admin);
    expect(JSON.parse(stale.stdout)).toEqual({ kind: 'encryption', clusterId: 'c1', ...ring.encryption, node: { nodeId: 'n1', fingerprint: fp('d'), matches: false } });
    const staleText = await cli(['show', 'key', 'encryption'], () => ({ status: 200, body: { ...ring, node: { nodeId: 'n1', signing: fp('a'), encryption: fp('d') } } }), admin);
    expect(staleText.stdout).toContain(`n1 holds a DIFFERENT key: ${fp('d')}`);
    expect(staleText.stdout).toContain('authz cluster keys');
  });

  it.each([['signing'], ['encryption']])("show key authz %s: CUCM's word order shows the same key", async (kind) => {
    const cucm = await cli(['show', 'key', 'authz', kind, '--json'], keysServer, admin);
    const ours = await cli(['show', 'key', kind, '--json'], keysServer, admin);
    expect(cucm.code).toBe(0);
    expect(cucm.stderr).toBe('');
    expect(cucm.calls.map((c) => `${c.method} ${c.url}`)).toEqual(['GET http://srv:1/admin/keys']);
    expect(JSON.parse(cucm.stdout)).toEqual(JSON.parse(ours.stdout));
    expect(JSON.parse(cucm.stdout)).toMatchObject({ kind, fingerprint: ring[kind as 'signing' | 'encryption'].fingerprint });
    const text = await cli(['show', 'key', 'authz', kind], keysServer, admin);
    expect(text.stdout).toContain(`Authz ${kind} key\n`);
  });

  it.each([['signing'], ['encryption']])("set key regen authz %s --yes: CUCM's word order regenerates that key", async (kind) => {
    const result = await cli(['set', 'key', 'regen', 'authz', kind, '--yes'], keysServer, admin);
    expect(result.code).toBe(0);
    expect(result.calls.map((c) => `${c.method} ${c.url}`)).toEqual([`POST http://srv:1/admin/keys/${kind}/regenerate`]);
    expect(result.stdout).toContain(`Regenerated the ${kind} key.`);
  });

  it("set key regen authz signing on a terminal asks first, as the other word order does", async () => {
    const result = await cli(['set', 'key', 'regen', 'authz', 'signing'], keysServer, { ...admin, stdin: 'y\n', tty: true });
    expect(result.code).toBe(0);
    expect(result.calls.map((c) => `${c.method} ${c.url}`)).toEqual(['GET http://srv:1/admin/keys', 'POST http://srv:1/admin/keys/signing/regenerate']);
  });

  it('the key commands name both word orders in their help', async () => {
    for (const argv of [['show', 'key', '--help'], ['set', 'key', 'regen', '--help']]) {
      const result = await cli(argv);
      expect(result.stdout).toContain('[authz] <signing|encryption>');
    }
  });

  it.each([
    [['show', 'key', 'authz'], "value 'authz' is invalid for argument 'kind'. Allowed choices are signing, encryption."],
    [['show', 'key', 'authz', 'public'], "value 'public' is invalid for argument 'kind'. Allowed choices are signing, encryption."],
    [['show', 'key', 'public'], "value 'public' is invalid for argument 'kind'. Allowed choices are signing, encryption."],
    [['show', 'key', 'signing', 'encryption'], 'too many arguments'],
    [['show', 'key', 'authz', 'signing', 'extra'], 'too many arguments'],
    [['set', 'key', 'regen', 'authz', '--yes'], "value 'authz' is invalid for argument 'kind'"],
    [['set', 'key', 'regen', 'authz', 'authz', '--yes'], "value 'authz' is invalid for argument 'kind'"],
    [['set', 'key', 'regen', 'signing', 'authz', '--yes'], 'too many arguments'],
  ])('%p → exit 2 with %p, nothing sent', async (argv, message) => {
    const result = await cli(argv, keysServer, admin);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toContain(message);
    expect(result.calls).toHaveLength(0);
  });

  it.each([[['show', 'key']], [['show', 'key', 'authz']], [['set', 'key', 'regen', 'public', '--yes']]])('%p → exit 2, nothing sent', async (argv) => {
    const result = await cli(argv, keysServer, admin);
    expect(result.code).toBe(EXIT.usage);
    expect(result.calls).toHaveLength(0);
  });

  it('set key regen --yes: POSTs at once and prints the new hash', async () => {
    const result = await cli(['set', 'key', 'regen', 'signing', '--yes'], keysServer, admin);
    expect(result.code).toBe(0);
    expect(result.calls.map((c) => `${c.method} ${c.url}`)).toEqual(['POST http://srv:1/admin/keys/signing/regenerate']);
    expect(result.stdout).toMatch(new RegExp(`Hash:\\s+${fp('c')}\\n`));
    expect(result.stderr).toBe('');
  });

  it('set key regen without --yes and without a terminal: exit 2, nothing sent', async () => {
    const result = await cli(['set', 'key', 'regen', 'encryption'], keysServer, { ...admin, stdin: 'yes\n' });
    expect(result.code).toBe(EXIT.usage);
    expect(result.calls).toHaveLength(0);
    expect(result.stderr).toContain('--yes');
  });

  it.each([
    ['yes\n', 0, 2],
    ['y\r', 0, 2],
    ['no\n', EXIT.refused, 1],
    ['\n', EXIT.refused, 1],
    ['', EXIT.refused, 1],
  ])('set key regen on a terminal, answer %j → exit %d, %d request(s)', async (answer, code, requests) => {
    const result = await cli(['set', 'key', 'regen', 'signing'], keysServer, { ...admin, stdin: answer, tty: true });
    expect(result.code).toBe(code);
    expect(result.calls).toHaveLength(requests);
    expect(result.stderr).toContain('invalidates every access token issued under the current one');
    expect(result.stderr).toContain(`Current signing key: ${fp('a')}`);
    expect(result.stderr).toContain('Regenerate the signing key? [y/N]');
    if (code !== 0) expect(result.stderr).toContain('cancelled: the signing key is unchanged');
  });

  it('set key regen says what it does to refresh tokens: kept by default, revoked with --revoke-refresh-tokens, untouched by encryption', async () => {
    const kept = await cli(['set', 'key', 'regen', 'signing'], keysServer, { ...admin, stdin: 'y\n', tty: true });
    expect(kept.stderr).toContain('Refresh tokens keep working');
    expect(kept.stderr).toContain('--revoke-refresh-tokens');
    expect(kept.calls[1].body).toBeUndefined();
    expect(kept.stdout).toContain('Refresh tokens still work: the old public key verifies them until they expire.');

    const revoking = (call: Call) => (call.method === 'GET' ? keysServer(call) : { status: 200, body: { ...regenerated, revokeRefreshTokens: true } });
    const revoked = await cli(['set', 'key', 'regen', 'signing', '--revoke-refresh-tokens'], revoking, { ...admin, stdin: 'y\n', tty: true });
    expect(revoked.code).toBe(0);
    expect(revoked.stderr).toContain('every refresh token issued before now is revoked too');
    expect(revoked.calls[1]).toMatchObject({ method: 'POST', url: 'http://srv:1/admin/keys/signing/regenerate', body: { revokeRefreshTokens: true } });
    expect(revoked.stdout).toContain('Every refresh token issued before it is revoked');

    // A server that ignored the flag: the CLI does not claim what did not happen.
    const ignored = await cli(['set', 'key', 'regen', 'signing', '--revoke-refresh-tokens', '--yes'], keysServer, admin);
    expect(ignored.code).toBe(EXIT.refused);
    expect(ignored.stderr).toContain('refresh tokens were NOT revoked');

    const piped = await cli(['set', 'key', 'regen', 'signing', '--revoke-refresh-tokens'], keysServer, { ...admin, stdin: 'yes\n' });
    expect(piped.code).toBe(EXIT.usage);
    expect(piped.stderr).toContain('every refresh token issued before now would be revoked');

    const encryption = await cli(['set', 'key', 'regen', 'encryption', '--revoke-refresh-tokens', '--yes'], keysServer, admin);
    expect(encryption.code).toBe(EXIT.usage);
    expect(encryption.calls).toHaveLength(0);
    expect(encryption.stderr).toContain('applies to the signing key only');
    const encryptionPrompt = await cli(['set', 'key', 'regen', 'encryption'], keysServer, { ...admin, stdin: 'n\n', tty: true });
    expect(encryptionPrompt.stderr).toContain('Refresh tokens are not encrypted: they keep working');
  });

  const clusterAnswer = (stale: boolean) => ({
    keyRing: ring,
    nodes: [
      {
        nodeId: 'node-a',
        lastSeen: '2026-01-01T00:00:00.000Z',
        keys: { signing: { kid: ring.signing.kid, fingerprint: fp('a'), matches: true }, encryption: { kid: ring.encryption.kid, fingerprint: fp('b'), matches: true } },
        matches: true,
      },
      {
        nodeId: 'node-b',
        lastSeen: '2026-01-01T00:00:00.000Z',
        keys: { signing: { kid: `c1:${fp('e')}`, fingerprint: stale ? fp('e') : fp('a'), matches: !stale }, encryption: null },
        matches: false,
      },
    ],
    allMatch: false,
  });

  it('cluster keys: a row per node, a mark per mismatch, exit 1', async () => {
    const result = await cli(['cluster', 'keys'], () => ({ status: 200, body: clusterAnswer(true) }), admin);
    expect(result.code).toBe(EXIT.refused);
    expect(result.stdout).toMatch(/node-a\s+aaaaaaaaaaaaaaaa\s+bbbbbbbbbbbbbbbb\s+yes\s+2026-01-01T00:00:00.000Z/);
    expect(result.stdout).toMatch(/node-b\s+eeeeeeeeeeeeeeee \*\s+none \*\s+NO\s+/);
    expect(result.stdout).not.toContain(fp('a'));
    expect(result.stderr).toContain('error: the keys differ: node-b does not hold the key ring');

    const json = await cli(['cluster', 'keys', '--json'], () => ({ status: 200, body: clusterAnswer(true) }), admin);
    expect(json.code).toBe(EXIT.refused);
    expect(JSON.parse(json.stdout).nodes[1].keys.signing.fingerprint).toBe(fp('e'));
  });

  it('cluster keys: all matching → exit 0; no node at all → exit 1', async () => {
    const answer = clusterAnswer(false);
    answer.nodes = [answer.nodes[0]];
    answer.allMatch = true;
    const ok = await cli(['cluster', 'keys', '--full'], () => ({ status: 200, body: answer }), admin);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(fp('a'));
    expect(ok.stdout).toContain("The one node holds the key ring's keys.");

    const none = await cli(['cluster', 'keys'], () => ({ status: 200, body: { keyRing: ring, nodes: [], allMatch: true } }), admin);
    expect(none.code).toBe(EXIT.refused);
    expect(none.stdout).toContain('No node has reported its keys yet.');
  });

  it('clients add: the options as the API names them; the secret printed once with a warning', async () => {
    const result = await cli(
      ['clients', 'add', '--name', 'Voicemail', '--type', 'confidential', '--id', 'vm', '--grant', 'client_credentials,refresh_token', '--grant', 'implicit', '--redirect-uri', 'https://a/cb', '--redirect-uri', 'https://b/cb', '--scope', 'vm.read vm.write'],
      (call) => ({ status: 201, body: { ...(call.body as object), clientSecret: 's3cret' } }),
      admin,
    );
    expect(result.code).toBe(0);
    expect(result.calls[0]).toMatchObject({
      method: 'POST',
      url: 'http://srv:1/admin/clients',
      body: {
        clientId: 'vm',
        clientName: 'Voicemail',
        type: 'confidential',
        grantTypes: ['client_credentials', 'refresh_token', 'implicit'],
        redirectUris: ['https://a/cb', 'https://b/cb'],
        scope: 'vm.read vm.write',
      },
    });
    expect(result.stdout).toMatch(/Client secret:\s+s3cret\n/);
    expect(result.stdout).toContain('it is not shown again');
  });

  it('clients add: only what was given is sent; the type is the server\'s to check', async () => {
    const result = await cli(['clients', 'add', '--name', 'App', '--type', 'weird'], () => ({ status: 400, body: { error: 'invalid_request', error_description: 'type must be "public" or "confidential"' } }), admin);
    expect(result.calls[0].body).toEqual({ clientName: 'App', type: 'weird' });
    expect(result.code).toBe(EXIT.refused);
    expect(result.stderr).toBe('error: type must be "public" or "confidential"\n');

    const missing = await cli(['clients', 'add', '--type', 'public'], undefined, admin);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.calls).toHaveLength(0);
  });

  it('clients add --json: pure JSON on stdout, the warning on stderr', async () => {
    const result = await cli(['clients', 'add', '--name', 'Svc', '--type', 'confidential', '--json'], () => ({ status: 201, body: { clientId: 'x', clientName: 'Svc', type: 'confidential', redirectUris: [], grantTypes: ['client_credentials'], scope: '', clientSecret: 's' } }), admin);
    expect(JSON.parse(result.stdout).clientSecret).toBe('s');
    expect(result.stderr).toContain('not shown again');
  });

  it('ago: coarse and honest about clock skew', () => {
    const now = Date.parse('2026-01-01T01:00:00.000Z');
    expect(ago('2026-01-01T00:59:55.000Z', now)).toBe('5 s ago');
    expect(ago('2026-01-01T00:30:00.000Z', now)).toBe('30 min ago');
    expect(ago('2025-12-30T01:00:00.000Z', now)).toBe('2 days ago');
    expect(ago('2026-01-01T01:00:10.000Z', now)).toContain('clocks differ');
    expect(clusterKeysTable({ keyRing: ring, nodes: [], allMatch: true })).toContain(`signing ${fp('a').slice(0, 16)}`);
  });
});

describe('purge (in-process, scripted server)', () => {
  const admin = { env: { AUTHZ_ADMIN_USER: 'admin', AUTHZ_ADMIN_PASSWORD: 'secret-pw', AUTHZ_URL: 'http://srv:1' } };
  const done = {
    count: 200_010,
    batches: 41,
    cutoff: '2026-03-01T02:00:00.000Z',
    through: '2026-03-01T01:59:58.123456Z',
    capped: false,
    durationMs: 5_538,
    largestBatch: 5_000,
    startedAt: '2026-03-01T02:00:00.000Z',
    position: 42,
  };

  it('POSTs without a body and prints what was purged', async () => {
    const result = await cli(['purge'], () => ({ status: 200, body: done }), admin);
    expect(result.code).toBe(0);
    expect(result.calls.map((c) => `${c.method} ${c.url}`)).toEqual(['POST http://srv:1/admin/purge']);
    expect(result.calls[0].body).toBeUndefined();
    expect(result.stdout).toContain('Purged 200,010 expired refresh tokens in 41 batches (at most 5,000 rows each) in 5.5 s.');
    expect(result.stdout).toMatch(/Cutoff:\s+2026-03-01T02:00:00.000Z/);
    expect(result.stdout).toMatch(/Through:\s+2026-03-01T01:59:58.123456Z/);
    expect(result.stdout).toMatch(/Recorded:\s+RefreshTokensPurged event at position 42/);
    expect(result.stdout).not.toContain('cap');
  });

  it('--max-rows is sent; a capped run says that tokens are left; --json prints the answer', async () => {
    const capped = await cli(['purge', '--max-rows', '1000'], () => ({ status: 200, body: { ...done, count: 1_000, batches: 1, capped: true } }), admin);
    expect(capped.calls[0].body).toEqual({ maxRows: 1000 });
    expect(capped.stdout).toContain('stopped at its cap with expired tokens left');
    const json = await cli(['purge', '--json'], () => ({ status: 200, body: done }), admin);
    expect(JSON.parse(json.stdout)).toEqual(done);
    const nothing = await cli(['purge'], () => ({ status: 200, body: { ...done, count: 0, batches: 1, through: null } }), admin);
    expect(nothing.stdout).toContain('No expired refresh tokens to purge');
    expect(nothing.stdout).not.toContain('Through');
  });

  it('another node purging (409) → exit 1 with the server\'s reason', async () => {
    const result = await cli(
      ['purge'],
      () => ({ status: 409, body: { error: 'purge_running', error_description: 'another node is purging expired refresh tokens; try again when it has finished' } }),
      admin,
    );
    expect(result.code).toBe(EXIT.refused);
    expect(result.stderr).toBe('error: another node is purging expired refresh tokens; try again when it has finished\n');
    expect(result.stdout).toBe('');
  });

  it.each([[['purge', '--max-rows', '0']], [['purge', '--max-rows', 'lots']], [['purge', '--max-rows', '1.5']], [['purge', 'now']]])('%p → exit 2, nothing sent', async (argv) => {
    const result = await cli(argv, undefined, admin);
    expect(result.code).toBe(EXIT.usage);
    expect(result.calls).toHaveLength(0);
  });

  it('--help explains the batches, the cap, the lock and the exit status', async () => {
    const result = await cli(['purge', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: authz purge');
    expect(result.stdout).toContain('AUTHZ_PURGE_MAX_ROWS');
    expect(result.stdout).toContain('Only one node purges at a time');
  });
});

describe('replay (in-process, scripted server)', () => {
  const admin = { env: { AUTHZ_ADMIN_USER: 'admin', AUTHZ_ADMIN_PASSWORD: 'secret-pw', AUTHZ_URL: 'http://srv:1' } };
  const job = (over: Partial<ReplayJob> = {}): ReplayJob => ({
    id: 'job-1',
    projection: 'all',
    targets: ['parameters', 'clients', 'keys'],
    from: 0,
    source: 'store',
    state: 'running',
    processed: 0,
    total: 1000,
    rate: 0,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: null,
    ...over,
  });
  const done = job({
    state: 'done',
    processed: 1000,
    rate: 400,
    applied: { parameters: 10, clients: 990, keys: 3 },
    finishedAt: '2026-01-01T00:00:02.500Z',
  });
  /** POST starts the job; each GET answers the next of `states`, the last one for ever. */
  const server = (...states: ReplayJob[]) => {
    let gets = 0;
    return (call: Call) => (call.method === 'POST' ? { status: 202, body: job() } : { status: 200, body: states[Math.min(gets++, states.length - 1)] });
  };

  it('starts the job, polls it until done, and prints the count, the time and the rate', async () => {
    const result = await cli(['replay', 'all'], server(job({ processed: 500, rate: 250 }), done), admin);
    expect(result.code).toBe(0);
    expect(result.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'POST http://srv:1/admin/replay',
      'GET http://srv:1/admin/replay/job-1',
      'GET http://srv:1/admin/replay/job-1',
    ]);
    expect(result.calls[0].body).toEqual({ projection: 'all', from: 0, source: 'store' });
    expect(result.stdout).toContain('Replayed all from position 0 (event store): 1,000 events read in 2.5 s, 400 events/s.');
    expect(result.stdout).toMatch(/clients\s+990 events applied/);
    expect(result.stdout).toMatch(/keys\s+3 key ring events reloaded/);
    // Not a terminal: no bar redrawn (a plain line only every few seconds).
    expect(result.stderr).not.toContain('\r');
  });

  it('draws a progress bar on a terminal\'s stderr and clears it at the end', async () => {
    const result = await cli(['replay', 'clients', '--from', '1200', '--source', 'kafka'], server(job({ processed: 500, rate: 250 }), done), { ...admin, stderrTty: true });
    expect(result.code).toBe(0);
    expect(result.calls[0].body).toEqual({ projection: 'clients', from: 1200, source: 'kafka' });
    expect(result.stderr).toContain('\rreplay all [###############---------------]  50%  500/1,000 events  250 events/s');
    expect(result.stderr.endsWith('\r\x1b[K')).toBe(true);
  });

  it('--json prints the finished job', async () => {
    const result = await cli(['replay', 'all', '--json'], server(done), admin);
    expect(JSON.parse(result.stdout)).toEqual(done);
  });

  it('a failed job: exit 1 with the server\'s reason', async () => {
    const result = await cli(['replay', 'clients'], server(job({ state: 'failed', error: 'Kafka delivered nothing for 60 s', finishedAt: '2026-01-01T00:01:00.000Z' })), admin);
    expect(result.code).toBe(EXIT.refused);
    expect(result.stderr).toContain('error: the replay of clients failed: Kafka delivered nothing for 60 s');
    expect(result.stdout).toBe('');
  });

  it.each([
    [400, 'no projection "nope": one of parameters, clients, keys, all'],
    [409, 'a replay of all (job job-0) is running; wait for it to finish'],
  ])('HTTP %d on start → exit 1 with the message, no polling', async (status, message) => {
    const result = await cli(['replay', 'nope'], () => ({ status, body: { error: 'invalid_request', error_description: message } }), admin);
    expect(result.code).toBe(EXIT.refused);
    expect(result.stderr).toBe(`error: ${message}\n`);
    expect(result.calls).toHaveLength(1);
  });

  it.each([[['replay']], [['replay', 'all', '--from', '-1']], [['replay', 'all', '--from', 'x']], [['replay', 'all', '--from', '1.5']], [['replay', 'all', '--source', 'ftp']]])(
    '%p → exit 2, nothing sent',
    async (argv) => {
      const result = await cli(argv, server(done), admin);
      expect(result.code).toBe(EXIT.usage);
      expect(result.calls).toHaveLength(0);
    },
  );

  it('progressLine: never past 100%, nothing to read is 0%', () => {
    expect(progressLine(job({ processed: 1500, total: 1000 }))).toContain('100%');
    expect(progressLine(job({ processed: 0, total: 0 }))).toContain('  0%');
  });
});

describe('table', () => {
  it('pads all but the last column', () => {
    expect(table([['a', 'bb'], ['ccc', 'd']], ['H', 'I'])).toBe('H    I\n---  --\na    bb\nccc  d\n');
  });
});
