import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROOT, waitFor } from '../support/infra';
import { clientBasic, form, serviceClient } from '../support/oauth';
import { basic, freePort } from '../support/processes';

/**
 * The README's logging contract (Observability, Logs), line by line, for everything a started
 * embedded server prints from its start to its stop through a few requests: one JSON object per
 * line on stdout (nothing on stderr), the banner included; one access line per request with
 * method, route (the pattern, never the URL), status, durationMs and the correlation id echoed in
 * X-Correlation-Id; the lines a request causes carry its correlation id; no line holds a query
 * string, a header or a body.
 */

interface Process {
  url: string;
  stdout: () => string;
  stderr: () => string;
  stop: () => Promise<void>;
}

/** The built server as a process of its own, its two streams kept apart (startNode merges them). */
async function startServer(env: Record<string, string>): Promise<Process> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [resolve(ROOT, 'dist/apps/authz-server/src/main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, AUTHZ_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}:\n${stdout}${stderr}`);
      return (await fetch(`${url}/health`).catch(() => undefined))?.status === 200;
    }, 90_000, `the server on ${url}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stdout: () => stdout, stderr: () => stderr, stop };
}

type Line = Record<string, unknown>;

const ACCESS_FIELDS = ['method', 'route', 'status', 'durationMs', 'correlationId'];
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Every line of `text` as the JSON object it must be; a line that is not one fails the test with the line. */
function parseLines(text: string): Line[] {
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new Error(`not a JSON object: ${JSON.stringify(line)}`);
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`not a JSON object: ${JSON.stringify(line)}`);
      return value as Line;
    });
}

describe('the logging contract, on every line a server prints', () => {
  let server: Process;
  let dataDir: string;
  let lines: Line[];
  let raw: string;
  /** Each request made: its method, the route pattern it should log, and the correlation id it got back. */
  const requests: Array<{ method: string; route: string; status: number; correlationId: string; sent?: string }> = [];
  /** What no line may hold: query values, credentials, bodies, tokens. */
  const secrets: string[] = [];

  async function call(method: string, path: string, route: string, options: { auth?: string; body?: string; contentType?: string; correlationId?: string } = {}) {
    const headers: Record<string, string> = {};
    if (options.auth) headers.authorization = options.auth;
    if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    if (options.correlationId) headers['x-correlation-id'] = options.correlationId;
    const response = await fetch(`${server.url}${path}`, { method, headers, body: options.body });
    const text = await response.text();
    requests.push({ method, route, status: response.status, correlationId: response.headers.get('x-correlation-id')!, sent: options.correlationId });
    return { status: response.status, text };
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'authz-log-contract-'));
    server = await startServer({ AUTHZ_DATA_DIR: dataDir, AUTHZ_NODE_ID: 'log-contract' });
    const password = readFileSync(join(dataDir, 'admin-password'), 'utf8').trim();
    const admin = basic('admin', password);
    secrets.push(password, admin.slice('Basic '.length));

    // Set-up requests are logged too, and checked like the others (their correlation ids are not known: they are counted).
    const client = await serviceClient(server.url, admin, 'logged-client');
    secrets.push(client.clientSecret, clientBasic(client.clientId, client.clientSecret).slice('Basic '.length));

    const queryMarker = `query-${randomBytes(6).toString('hex')}`;
    const bodyMarker = `body-${randomBytes(6).toString('hex')}`;
    secrets.push(queryMarker, bodyMarker);

    await call('GET', '/health', '/health');
    await call('GET', `/health?probe=${queryMarker}`, '/health', { correlationId: 'probe.1' });
    const token = await form(`${server.url}/oauth/token`, { grant_type: 'client_credentials' }, clientBasic(client.clientId, client.clientSecret));
    expect(token.status).toBe(200);
    secrets.push(token.body.access_token);
    await call('POST', '/oauth/introspect', '/oauth/introspect', {
      auth: clientBasic(client.clientId, client.clientSecret),
      body: new URLSearchParams({ token: token.body.access_token }).toString(),
      contentType: 'application/x-www-form-urlencoded',
      correlationId: 'introspect-1',
    });
    await call('GET', `/admin/audit?user_id=${queryMarker}`, '/admin/audit', { auth: admin });
    await call('GET', '/admin/parameters', '/admin/parameters', { auth: basic('admin', `wrong-${bodyMarker}`) });
    await call('POST', '/admin/users', '/admin/users', { auth: admin, body: JSON.stringify({ userId: 'logged-user', password: `pw-${bodyMarker}` }), correlationId: 'create-user' });
    await call('POST', '/admin/users', '/admin/users', { auth: admin, body: `{"userId": "${bodyMarker}`, correlationId: 'bad-json' });
    await call('GET', `/no/such/route?x=${queryMarker}`, 'unmatched', { correlationId: 'lost-1' });
    await call('POST', '/admin/purge', '/admin/purge', { auth: admin, correlationId: 'purge-1' });
    expect(secrets.every((s) => s.length >= 8)).toBe(true);

    // The last access line is written once its response is done: wait for it, then stop the server
    // so that its last lines (the shutdown) are in too.
    await waitFor(() => server.stdout().includes('"correlationId":"purge-1"') && server.stdout().includes('"route":"/admin/purge"'), 10_000, 'the last access line');
    await server.stop();
    raw = server.stdout();
    lines = parseLines(raw);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('prints nothing on stderr', () => {
    expect(server.stderr()).toBe('');
  });

  it('prints one JSON object per line on stdout, each with a level, a time, a message and its source', () => {
    expect(lines.length).toBeGreaterThan(20);
    for (const line of lines) {
      expect(line).toEqual(
        expect.objectContaining({
          level: expect.stringMatching(/^(log|warn|error|fatal|debug|verbose)$/),
          pid: expect.any(Number),
          timestamp: expect.any(Number),
          message: expect.any(String),
          context: expect.any(String),
        }),
      );
    }
  });

  it('prints its banner as such lines: where it listens, its mode, the admin password file, with the facts as fields', () => {
    const listening = lines.find((l) => typeof l.message === 'string' && l.message.includes(`listening on ${server.url}`));
    expect(listening).toMatchObject({ level: 'log', context: 'authz-server', url: server.url, mode: 'embedded', nodeId: 'log-contract', dataDir: expect.stringContaining(dataDir) });
    expect(lines.some((l) => String(l.message).includes(`password in ${join(dataDir, 'admin-password')}`))).toBe(true);
    expect(lines.some((l) => String(l.message).includes('first token:'))).toBe(true);
  });

  it('ends every request with one access line: method, route pattern, status, durationMs, and the correlation id echoed to the caller', () => {
    const access = lines.filter((l) => ACCESS_FIELDS.every((field) => field in l));
    for (const line of access) {
      expect(line).toMatchObject({
        method: expect.stringMatching(/^[A-Z]+$/),
        route: expect.stringMatching(/^(\/[^?]*|unmatched)$/),
        status: expect.any(Number),
        durationMs: expect.any(Number),
        correlationId: expect.stringMatching(CORRELATION_ID),
      });
    }
    for (const request of requests) {
      expect(request.correlationId).toMatch(CORRELATION_ID);
      if (request.sent) expect(request.correlationId).toBe(request.sent);
      const own = access.filter((l) => l.correlationId === request.correlationId);
      expect(own).toEqual([expect.objectContaining({ method: request.method, route: request.route, status: request.status })]);
    }
    // Set-up requests (client registration, the token) have theirs too.
    expect(access.length).toBeGreaterThanOrEqual(requests.length + 2);
    expect(new Set(access.map((l) => l.correlationId)).size).toBe(access.length);
  });

  it('gives the lines a request causes its correlation id: the purge it starts', () => {
    const purge = lines.filter((l) => /^purge /.test(String(l.message)));
    expect(purge.length).toBeGreaterThan(0);
    for (const line of purge) expect(line.correlationId).toBe('purge-1');
  });

  it('never prints a query string, credentials, a body or a token', () => {
    expect(raw).not.toMatch(/\?(probe|user_id|x)=/);
    for (const secret of secrets) expect(raw).not.toContain(secret);
  });
});
