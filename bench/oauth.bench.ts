/**
 * The OAuth endpoints under load: requests/s and p50/p99 latency of
 *   - client_credentials  POST /oauth/token (client_secret_basic): mint an access token;
 *   - refresh_token       POST /oauth/token (public client, rotation off): a new access token,
 *                         each worker with a token of its own (32 devices);
 *   - refresh_token_hot   the same with one refresh token for every worker (32 requests in flight
 *                         on one grant: a client retrying in a loop, many tabs);
 *   - introspect          POST /oauth/introspect (client_secret_basic): RFC 7662;
 * on authz in cluster mode — one real authz-server process on PostgreSQL (a fresh database) and
 * the Kafka broker of scripts/infra.sh, every token issued or refreshed appended durably as an
 * event and relayed to Kafka — and, in the same run and on the same machine, on node-oidc-provider
 * (bench/support/oidc-provider.ts, its own process, JWT RS256 access tokens, state in memory).
 *
 * Each scenario is a closed loop from this process (node:http, keep-alive): BENCH_CONCURRENCY
 * workers (32), each sending its next request when the last one answered, for BENCH_SECONDS (10)
 * per server after BENCH_WARMUP_SECONDS (2). The measured seconds alternate between the servers
 * in BENCH_SLICE_SECONDS slices (2), so that both see the same background load on a shared
 * machine. Only 200 answers that carry a token (for introspection: `"active":true`) count. The
 * load generator, both servers, PostgreSQL and Kafka share the machine's cores: CPU use per
 * process is reported beside the figures, and the machine's background load before the runs.
 *
 *   npm run bench -- oauth         (or: npm run build && node dist/bench/oauth.bench.js)
 *   BENCH_SCENARIOS=refresh_token  only some scenarios (client_credentials,refresh_token,introspect)
 *   BENCH_INTROSPECT_TOKENS=256    distinct tokens the introspection loop cycles through
 *   BENCH_CPU_PROF=/tmp/prof       run both servers with --cpu-prof, profiles written there at exit
 *   BENCH_NODE_FLAGS=--perf-basic-prof  more node flags for both servers (e.g. for `perf record -a`)
 */
import { constants, createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { JWT_RESOURCE, OPAQUE_RESOURCE, PUBLIC_CLIENT, PUBLIC_SCOPE, ROTATING_CLIENT, SERVICE_CLIENT, SERVICE_SCOPE } from './support/oidc-provider';
import { cleanUpKafka, freePort, machineBusyMs, percentile, processCpuMs } from './support/measure';
import { startServer as startProcess, type Server } from './support/server';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ADMIN_URL = process.env.AUTHZ_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BROKERS = process.env.AUTHZ_TEST_KAFKA_BROKERS ?? '127.0.0.1:19092';
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const SLICE_SECONDS = Number(process.env.BENCH_SLICE_SECONDS ?? 2);
const INTROSPECT_TOKENS = Number(process.env.BENCH_INTROSPECT_TOKENS ?? 256);
const CPU_PROF = process.env.BENCH_CPU_PROF;
const NODE_FLAGS = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
const SCENARIOS = ['client_credentials', 'refresh_token', 'refresh_token_hot', 'refresh_token_rotation', 'introspect'] as const;
type ScenarioName = (typeof SCENARIOS)[number];
const SELECTED = (process.env.BENCH_SCENARIOS?.split(',').map((s) => s.trim()) ?? [...SCENARIOS]) as ScenarioName[];
for (const name of SELECTED) if (!SCENARIOS.includes(name)) throw new Error(`BENCH_SCENARIOS: no scenario ${name} (${SCENARIOS.join(', ')})`);
/** RSA signatures per response: authz signs a rotated refresh token too; oidc-provider's are opaque. */
const SIGNATURES: Record<ScenarioName, { authz: number; oidc: number } | 0> = {
  client_credentials: { authz: 1, oidc: 1 },
  refresh_token: { authz: 1, oidc: 1 },
  refresh_token_hot: { authz: 1, oidc: 1 },
  refresh_token_rotation: { authz: 2, oidc: 1 },
  introspect: 0,
};
const REDIRECT = 'https://app.example/callback';
const USER = 'alice';
const USER_PASSWORD = 'alice-bench-password';

const log = (message: string) => process.stderr.write(`oauth bench: ${message}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, digits = 1) => Number(n.toFixed(digits));
const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(user)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const FORM = 'application/x-www-form-urlencoded';

// ---------------------------------------------------------------------------------------------
// Processes

/** Spawns `node <entry>` (profiled with BENCH_CPU_PROF) and waits until GET <readyPath> answers 200. */
function startServer(name: string, entry: string, port: number, env: Record<string, string>, readyPath: string): Promise<Server> {
  const flags = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : [];
  return startProcess(name, entry, port, env, readyPath, [...flags, ...NODE_FLAGS]);
}

/**
 * CPU time (ms) of PostgreSQL — the backends serving `database` and the server's own auxiliary
 * processes (WAL writer, checkpointer…), not other databases' backends — and of the Kafka broker,
 * by pid: a pid absent from the earlier sample started since.
 */
function serviceCpuMs(database: string): Map<number, { group: 'postgres' | 'kafka'; ms: number }> {
  const found = new Map<number, { group: 'postgres' | 'kafka'; ms: number }>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      let group: 'postgres' | 'kafka' | undefined;
      if (comm === 'postgres') {
        // "postgres: [<cluster>: ]<user> <database> <host>(<port>) <state>" for a backend; "postgres: [<cluster>: ]walwriter" etc. otherwise.
        const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        const backend = /^postgres: (?:\S+: )?\S+ (\S+) (?:\S+\(\d+\)|\[local\])/.exec(title);
        if (!backend || backend[1] === database) group = 'postgres';
      } else if (comm === 'java' && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka')) {
        group = 'kafka';
      }
      if (group) found.set(pid, { group, ms: processCpuMs(pid) });
    } catch {
      // the process ended meanwhile
    }
  }
  return found;
}

function serviceCpuDelta(before: ReturnType<typeof serviceCpuMs>, after: ReturnType<typeof serviceCpuMs>): { postgres: number; kafka: number } {
  const delta = { postgres: 0, kafka: 0 };
  for (const [pid, { group, ms }] of after) delta[group] += ms - (before.get(pid)?.ms ?? 0);
  return delta;
}

/** Busy time of the whole machine (all cores), in ms. */
// ---------------------------------------------------------------------------------------------
// HTTP for the set-up (fetch) and for the load (node:http, keep-alive)

async function call(url: string, init: { method?: string; auth?: string; json?: unknown; form?: Record<string, string> } = {}) {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (init.auth) headers.authorization = init.auth;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  if (init.form) {
    headers['content-type'] = FORM;
    body = new URLSearchParams(init.form).toString();
  }
  const response = await fetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
  const text = await response.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

async function expectStatus<T extends { status: number; body: unknown }>(what: string, expected: number, response: Promise<T>): Promise<T> {
  const answer = await response;
  if (answer.status !== expected) throw new Error(`${what}: expected ${expected}, got ${answer.status} ${JSON.stringify(answer.body).slice(0, 500)}`);
  return answer;
}

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

interface Scenario {
  path: string;
  headers: Record<string, string>;
  /** The form body of the n-th request of a worker. */
  body: (worker: number, n: number) => string;
  /** Whether a 200 answer is a success (carries a token, or an active introspection). */
  ok: (text: string, worker: number) => boolean;
}

interface Measurement {
  okRequests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number; mean: number; max: number; over2s: number };
  failures: Record<string, number>;
  requestsPerSecondBySlice: number[];
  /** % of one core while this server was under load: its main thread, its other threads, PostgreSQL (this database), the Kafka broker, this process, anything else. */
  cpuPercent: { serverMainThread: number; serverOtherThreads: number; postgres: number; kafka: number; loadGenerator: number; other: number };
  /** CPU time of the server process (all threads) per counted request. */
  serverCpuMicrosPerRequest: number;
  /** The same with PostgreSQL's and the Kafka broker's: what a request costs the machine, whatever else runs on it. */
  serverPostgresKafkaCpuMicrosPerRequest: number;
  [extra: string]: unknown;
}

/**
 * A closed loop against one server: CONCURRENCY workers, each sending its next request when its
 * last one answered. `run` drives it for a while, recording or not (warm-up); a scenario calls it
 * in slices that alternate between the two servers, so that both see the same background load.
 */
class ClosedLoop {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY, maxFreeSockets: CONCURRENCY });
  private readonly latencies: number[] = [];
  private readonly failures: Record<string, number> = {};
  private okRequests = 0;
  private measuredMs = 0;
  private busyMs = 0;
  private readonly cpuMs = { server: 0, serverMain: 0, self: 0, machine: 0, postgres: 0, kafka: 0 };
  private readonly slices: number[] = [];
  private reported = false;

  constructor(
    private readonly server: Server,
    private readonly scenario: Scenario,
    /** The authz database, whose PostgreSQL backends count as PostgreSQL's CPU. */
    private readonly database: string,
  ) {}

  private send(body: string): Promise<{ status: number; text: string }> {
    return new Promise((resolveAnswer, reject) => {
      const request = http.request(
        {
          agent: this.agent,
          host: '127.0.0.1',
          port: this.server.port,
          method: 'POST',
          path: this.scenario.path,
          headers: { ...this.scenario.headers, 'content-type': FORM, 'content-length': Buffer.byteLength(body) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolveAnswer({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  async run(seconds: number, record: boolean): Promise<void> {
    const pid = this.server.process.pid!;
    const cpu0 = { server: processCpuMs(pid), serverMain: processCpuMs(pid, pid), self: process.cpuUsage(), machine: machineBusyMs(), services: record ? serviceCpuMs(this.database) : new Map() };
    const okBefore = this.okRequests;
    const started = performance.now();
    const stopAt = started + seconds * 1000;
    const worker = async (w: number) => {
      for (let n = 0; performance.now() < stopAt; n++) {
        const sent = performance.now();
        let outcome: string;
        try {
          const { status, text } = await this.send(this.scenario.body(w, n));
          outcome = status === 200 ? (this.scenario.ok(text, w) ? 'ok' : '200 without a token') : `HTTP ${status}`;
          if (outcome !== 'ok' && !this.reported) {
            this.reported = true;
            log(`${this.server.name}: first failure: ${status} ${text.slice(0, 300)}`);
          }
        } catch (error) {
          outcome = `error ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
        }
        const finished = performance.now();
        // A request counts in the window it finishes in.
        if (!record || finished > stopAt) continue;
        if (outcome === 'ok') {
          this.okRequests++;
          this.latencies.push(finished - sent);
        } else {
          this.failures[outcome] = (this.failures[outcome] ?? 0) + 1;
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
    if (!record) return;
    // Rates use the window; CPU shares use the time until the last request of the window answered.
    this.measuredMs += stopAt - started;
    this.slices.push(Math.round(((this.okRequests - okBefore) * 1000) / (stopAt - started)));
    const services = serviceCpuDelta(cpu0.services, serviceCpuMs(this.database));
    this.cpuMs.postgres += services.postgres;
    this.cpuMs.kafka += services.kafka;
    this.busyMs += performance.now() - started;
    const self = process.cpuUsage(cpu0.self);
    this.cpuMs.server += processCpuMs(pid) - cpu0.server;
    this.cpuMs.serverMain += processCpuMs(pid, pid) - cpu0.serverMain;
    this.cpuMs.self += (self.user + self.system) / 1000;
    this.cpuMs.machine += machineBusyMs() - cpu0.machine;
  }

  result(): Measurement {
    this.agent.destroy();
    const sorted = Float64Array.from(this.latencies).sort();
    const percent = (ms: number) => round((ms / this.busyMs) * 100, 0);
    const { server, serverMain, self, machine, postgres, kafka } = this.cpuMs;
    return {
      okRequests: this.okRequests,
      requestsPerSecond: Math.round((this.okRequests * 1000) / this.measuredMs),
      latencyMs: {
        p50: round(percentile(sorted, 50), 2),
        p99: round(percentile(sorted, 99), 2),
        mean: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length), 2),
        max: round(sorted.at(-1) ?? NaN, 1),
        over2s: sorted.filter((ms) => ms > 2_000).length,
      },
      requestsPerSecondBySlice: this.slices,
      failures: this.failures,
      cpuPercent: {
        serverMainThread: percent(serverMain),
        serverOtherThreads: percent(server - serverMain),
        postgres: percent(postgres),
        kafka: percent(kafka),
        loadGenerator: percent(self),
        other: percent(Math.max(0, machine - server - self - postgres - kafka)),
      },
      serverCpuMicrosPerRequest: Math.round((server * 1000) / Math.max(1, this.okRequests)),
      serverPostgresKafkaCpuMicrosPerRequest: Math.round(((server + postgres + kafka) * 1000) / Math.max(1, this.okRequests)),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// authz

async function adminSql<T = unknown>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The login form as a browser drives it (GET, then POST with the hidden fields), then the code exchange. */
async function authzRefreshToken(url: string): Promise<string> {
  const { verifier, challenge } = pkce();
  const params = { response_type: 'code', client_id: PUBLIC_CLIENT, redirect_uri: REDIRECT, state: randomBytes(8).toString('hex'), code_challenge: challenge, code_challenge_method: 'S256' };
  const page = await fetch(`${url}/oauth/authorize?${new URLSearchParams(params)}`, { redirect: 'manual' });
  const html = await page.text();
  if (page.status !== 200) throw new Error(`authz login page: ${page.status} ${html.slice(0, 300)}`);
  const hidden = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2].replace(/&amp;/g, '&')]));
  const posted = await fetch(`${url}/oauth/authorize`, {
    method: 'POST',
    redirect: 'manual',
    // The page's anti-forgery cookie goes with its token (a hidden field).
    headers: { 'content-type': FORM, cookie: page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') },
    body: new URLSearchParams({ ...hidden, username: USER, password: USER_PASSWORD }).toString(),
  });
  await posted.arrayBuffer();
  const code = new URL(posted.headers.get('location') ?? 'invalid:').searchParams.get('code');
  if (posted.status !== 302 || !code) throw new Error(`authz login: ${posted.status} ${posted.headers.get('location')}`);
  const tokens = await expectStatus(
    'authz code exchange',
    200,
    call(`${url}/oauth/token`, { form: { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: PUBLIC_CLIENT } }),
  );
  if (!tokens.body.refresh_token) throw new Error(`authz code exchange: no refresh token in ${JSON.stringify(tokens.body)}`);
  return tokens.body.refresh_token;
}

interface AuthzSetup {
  server: Server;
  databaseUrl: string;
  service: { clientId: string; clientSecret: string };
  refreshTokens: string[];
  rotatingTokens: string[];
  parameters: Record<string, unknown>;
  admin: string;
}

async function startAuthz(name: string): Promise<AuthzSetup> {
  await adminSql(ADMIN_URL, `CREATE DATABASE ${name}`);
  const databaseUrl = new URL(ADMIN_URL);
  databaseUrl.pathname = `/${name}`;
  const port = await freePort();
  const adminPassword = randomBytes(18).toString('base64url');
  const server = await startServer(
    'authz',
    'dist/apps/authz-server/src/main.js',
    port,
    {
      AUTHZ_DATABASE_URL: databaseUrl.toString(),
      AUTHZ_KAFKA_BROKERS: BROKERS,
      AUTHZ_KAFKA_TOPIC_PREFIX: name,
      AUTHZ_KEK: randomBytes(32).toString('base64'),
      AUTHZ_ADMIN_USER: 'admin',
      AUTHZ_ADMIN_PASSWORD: adminPassword,
      AUTHZ_PORT: String(port),
      AUTHZ_NODE_ID: 'bench-node',
      // One process for the whole cluster: it relays the outbox and runs the projections
      // (the parameters read model must see oauthWithRefreshLoginFlow change).
      AUTHZ_RUN_PROJECTIONS: 'true',
    },
    '/health',
  );
  try {
    const admin = basic('admin', adminPassword);
    // The refresh login flow on; refresh token rotation off, where the server has that parameter.
    const initial = (await expectStatus('read the parameters', 200, call(`${server.url}/admin/parameters`, { auth: admin }))).body as Record<string, unknown>;
    const wanted: Record<string, string> = { oauthWithRefreshLoginFlow: 'Enabled' };
    if ('refreshTokenRotation' in initial) wanted.refreshTokenRotation = 'Disabled';
    await expectStatus('set the parameters', 200, call(`${server.url}/admin/parameters`, { method: 'PUT', auth: admin, json: wanted }));
    let parameters: Record<string, unknown> = initial;
    for (const deadline = Date.now() + 30_000; Object.entries(wanted).some(([k, v]) => parameters[k] !== v); await sleep(100)) {
      if (Date.now() > deadline) throw new Error(`the parameters projection never showed ${JSON.stringify(wanted)}: ${JSON.stringify(parameters)}`);
      parameters = (await call(`${server.url}/admin/parameters`, { auth: admin })).body;
    }
    await expectStatus('create the user', 201, call(`${server.url}/admin/users`, { auth: admin, json: { userId: USER, password: USER_PASSWORD, roles: [] } }));
    const service = await expectStatus(
      'register the confidential client',
      201,
      call(`${server.url}/admin/clients`, { auth: admin, json: { clientId: SERVICE_CLIENT, clientName: SERVICE_CLIENT, type: 'confidential', grantTypes: ['client_credentials'], scope: SERVICE_SCOPE } }),
    );
    await expectStatus(
      'register the public client',
      201,
      call(`${server.url}/admin/clients`, {
        auth: admin,
        json: { clientId: PUBLIC_CLIENT, clientName: PUBLIC_CLIENT, type: 'public', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'], scope: PUBLIC_SCOPE },
      }),
    );
    // One refresh token per worker, as many devices would hold: each is its own grant stream.
    const refreshTokens: string[] = [];
    for (let i = 0; i < CONCURRENCY; i++) refreshTokens.push(await authzRefreshToken(server.url));
    const rotatingTokens: string[] = [];
    if (SELECTED.includes('refresh_token_rotation')) for (let i = 0; i < CONCURRENCY; i++) rotatingTokens.push(await authzRefreshToken(server.url));
    return { server, databaseUrl: databaseUrl.toString(), service: { clientId: SERVICE_CLIENT, clientSecret: service.body.clientSecret }, refreshTokens, rotatingTokens, parameters, admin };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// node-oidc-provider

/** Authorization code flow through oidc-provider's devInteractions (login, then consent), with a cookie jar. */
async function oidcRefreshToken(url: string, clientId = PUBLIC_CLIENT): Promise<string> {
  const jar = new Map<string, string>();
  const go = async (target: string, form?: Record<string, string>) => {
    const headers: Record<string, string> = { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
    if (form) headers['content-type'] = FORM;
    const response = await fetch(target, { method: form ? 'POST' : 'GET', headers, body: form ? new URLSearchParams(form).toString() : undefined, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair.indexOf('=');
      const [name, value] = [pair.slice(0, eq).trim(), pair.slice(eq + 1)];
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie)) jar.delete(name);
      else jar.set(name, value);
    }
    return { status: response.status, location: response.headers.get('location'), text: await response.text() };
  };
  const { verifier, challenge } = pkce();
  const params = { client_id: clientId, response_type: 'code', redirect_uri: REDIRECT, scope: PUBLIC_SCOPE, resource: JWT_RESOURCE, state: randomBytes(8).toString('hex'), code_challenge: challenge, code_challenge_method: 'S256' };
  let answer = await go(`${url}/auth?${new URLSearchParams(params)}`);
  let code: string | null = null;
  for (let step = 0; step < 12 && !code; step++) {
    if (!answer.location) throw new Error(`oidc-provider authorization: ${answer.status} without a redirect: ${answer.text.slice(0, 500)}`);
    const next = new URL(answer.location, url);
    if (next.href.startsWith(REDIRECT)) {
      code = next.searchParams.get('code');
      if (!code) throw new Error(`oidc-provider authorization failed: ${next.search}`);
    } else if (next.pathname.startsWith('/interaction/')) {
      const page = await go(next.href);
      const prompt = /name="prompt" value="([^"]+)"/.exec(page.text)?.[1];
      if (!prompt) throw new Error(`oidc-provider interaction page without a prompt: ${page.status} ${page.text.slice(0, 500)}`);
      answer = await go(next.href, { prompt, login: USER, password: USER_PASSWORD });
    } else {
      answer = await go(next.href);
    }
  }
  if (!code) throw new Error('oidc-provider authorization: no code after 12 redirects');
  const tokens = await expectStatus(
    'oidc-provider code exchange',
    200,
    call(`${url}/token`, { form: { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: clientId } }),
  );
  if (!tokens.body.refresh_token) throw new Error(`oidc-provider code exchange: no refresh token in ${JSON.stringify(tokens.body)}`);
  return tokens.body.refresh_token;
}

async function startOidcProvider(): Promise<{ server: Server; secret: string; refreshTokens: string[]; rotatingTokens: string[] }> {
  const port = await freePort();
  const secret = randomBytes(32).toString('base64url');
  const server = await startServer(
    'oidc-provider',
    'dist/bench/support/oidc-provider.js',
    port,
    { OIDC_PORT: String(port), OIDC_SERVICE_SECRET: secret, OIDC_REDIRECT_URI: REDIRECT },
    '/.well-known/openid-configuration',
  );
  try {
    const refreshTokens: string[] = [];
    for (let i = 0; i < CONCURRENCY; i++) refreshTokens.push(await oidcRefreshToken(server.url));
    const rotatingTokens: string[] = [];
    if (SELECTED.includes('refresh_token_rotation')) for (let i = 0; i < CONCURRENCY; i++) rotatingTokens.push(await oidcRefreshToken(server.url, ROTATING_CLIENT));
    return { server, secret, refreshTokens, rotatingTokens };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------

function jwtHeader(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
}

/** `count` access tokens from client_credentials requests, 8 at a time. */
async function mintMany(count: number, mint: () => Promise<string>): Promise<string[]> {
  const tokens: string[] = [];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (tokens.length < count) tokens.push(await mint());
    }),
  );
  return tokens.slice(0, count);
}

/** What the machine does while the bench does nothing: another build or test run skews absolute figures. */
async function backgroundLoad(servers: Server[], database: string) {
  const before = { machine: machineBusyMs(), servers: servers.map((s) => processCpuMs(s.process.pid!)), services: serviceCpuMs(database), self: process.cpuUsage(), at: performance.now() };
  await sleep(2_000);
  const elapsed = performance.now() - before.at;
  const machine = machineBusyMs() - before.machine;
  const ours = servers.reduce((sum, s, i) => sum + processCpuMs(s.process.pid!) - before.servers[i], 0);
  const services = serviceCpuDelta(before.services, serviceCpuMs(database));
  const selfUsage = process.cpuUsage(before.self);
  const self = (selfUsage.user + selfUsage.system) / 1000;
  const percent = (ms: number) => round((ms / elapsed) * 100, 0);
  return {
    total: percent(machine),
    servers: percent(ours),
    postgres: percent(services.postgres),
    kafka: percent(services.kafka),
    other: percent(Math.max(0, machine - ours - services.postgres - services.kafka - self)),
  };
}

/**
 * The reference: RSA-2048 PKCS#1 v1.5 signatures per second that this machine makes with
 * node:crypto on the thread pool (as both servers sign), 32 in flight for 2 s, both servers idle.
 * Every token response but introspection's needs one (two with rotation: the successor is
 * signed too), so this bounds what any server here can answer, whatever else it does.
 */
async function rsaSignaturesPerSecond(): Promise<number> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const data = randomBytes(700);
  const key = { key: privateKey, padding: constants.RSA_PKCS1_PADDING };
  const signOnce = () => new Promise<void>((done, fail) => sign('sha256', data, key, (error) => (error ? fail(error) : done())));
  const stopAt = performance.now() + 2_000;
  let count = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (performance.now() < stopAt) {
      await signOnce();
      count++;
    }
  }));
  return Math.round(count / 2);
}

async function main() {
  const name = `authz_oauthbench_${Date.now().toString(36)}`;
  const started = performance.now();
  log(`authz in cluster mode (database and topic prefix ${name}), ${CONCURRENCY} workers, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s per run`);
  const authz = await startAuthz(name);
  let oidc: Awaited<ReturnType<typeof startOidcProvider>> | undefined;
  try {
    oidc = await startOidcProvider();
    const oidcVersion = JSON.parse(readFileSync(resolve(ROOT, 'node_modules/oidc-provider/package.json'), 'utf8')).version as string;
    const [durability] = await adminSql<{ fsync: string; synchronous_commit: string }>(
      authz.databaseUrl,
      `SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS synchronous_commit`,
    );
    log(`set up in ${round((performance.now() - started) / 1000)} s`);
    // What else the machine is doing (another build, test or bench) skews absolute figures.
    const background = await backgroundLoad([authz.server, oidc.server], name);
    const rsaRate = await rsaSignaturesPerSecond();
    log(`reference: ${rsaRate} RSA-2048 signatures/s on this machine's thread pool`);

    const authzService = basic(authz.service.clientId, authz.service.clientSecret);
    const oidcService = basic(SERVICE_CLIENT, oidc.secret);
    const hasToken = (text: string) => text.includes('"access_token"');
    const active = (text: string) => text.includes('"active":true');

    // Sanity checks, and what the tokens look like.
    const authzToken = (await expectStatus('authz client_credentials', 200, call(`${authz.server.url}/oauth/token`, { auth: authzService, form: { grant_type: 'client_credentials' } }))).body;
    const oidcToken = (await expectStatus('oidc-provider client_credentials', 200, call(`${oidc.server.url}/token`, { auth: oidcService, form: { grant_type: 'client_credentials', scope: SERVICE_SCOPE } }))).body;
    const oidcHeader = jwtHeader(oidcToken.access_token);
    if (oidcHeader.alg !== 'RS256') throw new Error(`oidc-provider access token is not RS256: ${JSON.stringify(oidcHeader)}`);
    const oidcRefreshed = (await expectStatus('oidc-provider refresh', 200, call(`${oidc.server.url}/token`, { form: { grant_type: 'refresh_token', refresh_token: oidc.refreshTokens[0], client_id: PUBLIC_CLIENT } }))).body;
    // Rotation off: the same refresh token comes back.
    if (jwtHeader(oidcRefreshed.access_token).alg !== 'RS256' || oidcRefreshed.refresh_token !== oidc.refreshTokens[0]) throw new Error(`oidc-provider refresh: ${JSON.stringify(oidcRefreshed)}`);
    const jwtIntrospection = (await call(`${oidc.server.url}/token/introspection`, { auth: oidcService, form: { token: oidcToken.access_token } })).body;

    /** Rotation off: worker w refreshes tokens[w % tokens.length] (one token: every worker the same). */
    const refreshScenario = (tokens: readonly string[], side: 'authz' | 'oidc'): Scenario => {
      const bodies = tokens.map((t) => new URLSearchParams({ grant_type: 'refresh_token', refresh_token: t, client_id: PUBLIC_CLIENT }).toString());
      return { path: side === 'authz' ? '/oauth/token' : '/token', headers: {}, body: (w) => bodies[w % bodies.length], ok: hasToken };
    };
    const scenarios: Record<ScenarioName, (side: 'authz' | 'oidc', pool: string[]) => Scenario> = {
      client_credentials: (side) =>
        side === 'authz'
          ? { path: '/oauth/token', headers: { authorization: authzService }, body: () => 'grant_type=client_credentials', ok: hasToken }
          : { path: '/token', headers: { authorization: oidcService }, body: () => `grant_type=client_credentials&scope=${SERVICE_SCOPE}`, ok: hasToken },
      refresh_token: (side) => refreshScenario(side === 'authz' ? authz.refreshTokens : oidc!.refreshTokens, side),
      refresh_token_hot: (side) => refreshScenario((side === 'authz' ? authz.refreshTokens : oidc!.refreshTokens).slice(0, 1), side),
      // Each worker holds one token and replaces it with the successor every answer brings.
      refresh_token_rotation: (side) => {
        const current = [...(side === 'authz' ? authz.rotatingTokens : oidc!.rotatingTokens)];
        const clientId = side === 'authz' ? PUBLIC_CLIENT : ROTATING_CLIENT;
        return {
          path: side === 'authz' ? '/oauth/token' : '/token',
          headers: {},
          body: (w) => new URLSearchParams({ grant_type: 'refresh_token', refresh_token: current[w % current.length], client_id: clientId }).toString(),
          ok: (text, w) => {
            const successor = /"refresh_token":"([^"]+)"/.exec(text)?.[1];
            if (!successor || successor === current[w % current.length] || !hasToken(text)) return false;
            current[w % current.length] = successor;
            return true;
          },
        };
      },
      introspect: (side, pool) => {
        const bodies = pool.map((t) => `token=${encodeURIComponent(t)}`);
        let next = 0;
        return {
          path: side === 'authz' ? '/oauth/introspect' : '/token/introspection',
          headers: { authorization: side === 'authz' ? authzService : oidcService },
          body: () => bodies[next++ % bodies.length],
          ok: active,
        };
      },
    };

    const position = async () => Number((await adminSql<{ p: string }>(authz.databaseUrl, 'SELECT coalesce(max(position), 0) AS p FROM events'))[0].p);
    const backlog = async () => Number((await adminSql<{ n: string }>(authz.databaseUrl, 'SELECT count(*) AS n FROM outbox'))[0].n);

    const setRotation = async (value: 'Enabled' | 'Disabled') => {
      await expectStatus('set refreshTokenRotation', 200, call(`${authz.server.url}/admin/parameters`, { method: 'PUT', auth: authz.admin, json: { refreshTokenRotation: value } }));
      for (const deadline = Date.now() + 30_000; (await call(`${authz.server.url}/admin/parameters`, { auth: authz.admin })).body.refreshTokenRotation !== value; await sleep(100)) {
        if (Date.now() > deadline) throw new Error(`refreshTokenRotation never became ${value}`);
      }
      // The token endpoint reads the parameters through a one-second cache.
      await sleep(1_500);
    };
    /**
     * From the append of an event to its audit row (relay, Kafka, projection): every event of
     * the run, once the audit projection has them all.
     */
    const projectionLag = async (from: number, to: number) => {
      const count = async () => Number((await adminSql<{ n: string }>(authz.databaseUrl, 'SELECT count(*) AS n FROM audit_events WHERE position > $1 AND position <= $2', [from, to]))[0].n);
      for (const deadline = Date.now() + 60_000; (await count()) < to - from && Date.now() < deadline; ) await sleep(200);
      const [lag] = await adminSql<{ events: string; p50: number; p99: number; max: number }>(
        authz.databaseUrl,
        `SELECT count(*) AS events,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, max(ms) AS max
           FROM (SELECT extract(epoch FROM recorded_at - occurred_at) * 1000 AS ms FROM audit_events WHERE position > $1 AND position <= $2) lags`,
        [from, to],
      );
      return { events: Number(lag.events), p50Ms: round(Number(lag.p50)), p99Ms: round(Number(lag.p99)), maxMs: round(Number(lag.max)) };
    };

    const results = [];
    for (const scenarioName of SELECTED) {
      if (scenarioName === 'refresh_token_rotation') await setRotation('Enabled');
      let authzPool: string[] = [];
      let oidcPool: string[] = [];
      if (scenarioName === 'introspect') {
        authzPool = await mintMany(INTROSPECT_TOKENS, async () =>
          (await expectStatus('authz token', 200, call(`${authz.server.url}/oauth/token`, { auth: authzService, form: { grant_type: 'client_credentials' } }))).body.access_token,
        );
        oidcPool = await mintMany(INTROSPECT_TOKENS, async () =>
          (await expectStatus('oidc-provider token', 200, call(`${oidc!.server.url}/token`, { auth: oidcService, form: { grant_type: 'client_credentials', scope: SERVICE_SCOPE, resource: OPAQUE_RESOURCE } }))).body.access_token,
        );
        for (const [url, auth, token] of [[`${authz.server.url}/oauth/introspect`, authzService, authzPool[0]], [`${oidc.server.url}/token/introspection`, oidcService, oidcPool[0]]]) {
          const check = await call(url, { auth, form: { token } });
          if (check.body?.active !== true) throw new Error(`introspection of a fresh token at ${url}: ${JSON.stringify(check.body)}`);
        }
      }

      log(`${scenarioName}: warm-up…`);
      const authzLoop = new ClosedLoop(authz.server, scenarios[scenarioName]('authz', authzPool), name);
      const oidcLoop = new ClosedLoop(oidc.server, scenarios[scenarioName]('oidc', oidcPool), name);
      await authzLoop.run(WARMUP_SECONDS, false);
      await oidcLoop.run(WARMUP_SECONDS, false);
      const before = await position();
      let outboxMax = 0;
      for (let done = 0; done < SECONDS - 1e-9; done += SLICE_SECONDS) {
        const slice = Math.min(SLICE_SECONDS, SECONDS - done);
        await authzLoop.run(slice, true);
        outboxMax = Math.max(outboxMax, await backlog());
        await oidcLoop.run(slice, true);
      }
      const authzResult = authzLoop.result();
      const oidcResult = oidcLoop.result();
      const after = await position();
      authzResult.eventsAppended = after - before;
      const drainStarted = performance.now();
      while ((await backlog()) > 0 && performance.now() - drainStarted < 60_000) await sleep(100);
      authzResult.outbox = { mostRowsAfterASlice: outboxMax, rowsLeft: await backlog() };
      const lag = await projectionLag(before, after);
      authzResult.projectionLag = lag;
      log(`${scenarioName}: projection lag (append → audit row) p50 ${lag.p50Ms} ms, p99 ${lag.p99Ms} ms over ${lag.events} events`);
      if (scenarioName === 'refresh_token_rotation') await setRotation('Disabled');
      for (const [side, result] of [['authz', authzResult], ['oidc-provider', oidcResult]] as const) {
        log(`${scenarioName}: ${side} ${result.requestsPerSecond}/s p50 ${result.latencyMs.p50} ms p99 ${result.latencyMs.p99} ms, ${result.latencyMs.over2s} over 2 s, ${result.serverCpuMicrosPerRequest} µs CPU/request`);
      }
      const signatures = SIGNATURES[scenarioName];
      if (signatures !== 0 && oidcResult.requestsPerSecond > rsaRate / signatures.authz) {
        log(`${scenarioName}: oidc-provider answered ${oidcResult.requestsPerSecond}/s, above authz's signing ceiling of ${Math.floor(rsaRate / signatures.authz)}/s (${signatures.authz} signatures per response at ${rsaRate}/s)`);
      }
      results.push({
        scenario: scenarioName,
        authz: authzResult,
        oidcProvider: oidcResult,
        ratioAuthzToOidcProvider: {
          requestsPerSecond: round(authzResult.requestsPerSecond / oidcResult.requestsPerSecond, 2),
          p50: round(authzResult.latencyMs.p50 / oidcResult.latencyMs.p50, 2),
          p99: round(authzResult.latencyMs.p99 / oidcResult.latencyMs.p99, 2),
          serverCpuPerRequest: round(authzResult.serverCpuMicrosPerRequest / oidcResult.serverCpuMicrosPerRequest, 2),
          serverPostgresKafkaCpuPerRequest: round(authzResult.serverPostgresKafkaCpuMicrosPerRequest / oidcResult.serverPostgresKafkaCpuMicrosPerRequest, 2),
        },
        // Responses/s × RSA signatures per response, over the machine's raw signing rate.
        shareOfRawRsaRate: SIGNATURES[scenarioName] === 0 ? null : {
          authz: round((authzResult.requestsPerSecond * SIGNATURES[scenarioName].authz) / rsaRate, 2),
          oidcProvider: round((oidcResult.requestsPerSecond * SIGNATURES[scenarioName].oidc) / rsaRate, 2),
        },
        // The most a server could answer if both cores did nothing but its signatures: an upper
        // bound that no change short of signing less can raise.
        signingCeilingRequestsPerSecond: signatures === 0 ? null : {
          authz: Math.floor(rsaRate / signatures.authz),
          oidcProvider: Math.floor(rsaRate / signatures.oidc),
          oidcProviderMeasuredAboveAuthzCeiling: oidcResult.requestsPerSecond > rsaRate / signatures.authz,
        },
      });
    }

    const cores = cpus();
    console.log(
      JSON.stringify(
        {
          benchmark: 'oauth endpoints: authz (cluster mode) beside node-oidc-provider, same machine, same run',
          machine: {
            rsa2048SignaturesPerSecond: { value: rsaRate, what: 'node:crypto sign on the thread pool, 32 in flight, 2 s, both servers idle: the reference of shareOfRawRsaRate' },
            cores: cores.length,
            cpu: cores[0]?.model,
            node: process.version,
            backgroundCpuPercent: { ...background, what: 'machine busy (% of one core) over 2 s with both servers idle, just before the runs; other: processes outside this bench, PostgreSQL and Kafka' },
          },
          load: {
            concurrency: CONCURRENCY,
            warmupSeconds: WARMUP_SECONDS,
            seconds: SECONDS,
            interleaving: `${SLICE_SECONDS} s slices alternating authz / oidc-provider`,
            generator: 'this process: node:http keep-alive, closed loop, one request in flight per worker; only 200s with a token (introspection: active) count',
            sharing: `the load generator, both servers, PostgreSQL and Kafka share these ${cores.length} cores; cpuPercent is % of one core while that server was loaded (serverOtherThreads: the libuv pool (RSA), GC and other V8 threads; postgres: the backends of the bench database and PostgreSQL's own processes; kafka: the broker; other: anything else on the machine, e.g. another engineer's build)`,
          },
          servers: {
            authz: {
              mode: 'cluster: one authz-server process (relays the outbox, runs the projections), PostgreSQL, Kafka',
              durability: `every token issued or refreshed is an event appended in its own PostgreSQL transaction (fsync=${durability.fsync}, synchronous_commit=${durability.synchronous_commit}) with an outbox row, then relayed to Kafka`,
              accessToken: `RS256 JWS around a dir/A128CBC-HS256 JWE, ${authzToken.access_token.length} characters`,
              refreshTokenRotation:
                authz.parameters.refreshTokenRotation === undefined ? 'off (not a parameter yet)' : `${authz.parameters.refreshTokenRotation} (enterprise parameter refreshTokenRotation)`,
              introspection:
                'validates the token locally (RSA verify and JWE decrypt; a token seen before is found in a cache of validated tokens, which still checks its keys, issuer and expiry); asks the event store on each request whether the token was revoked (concurrent requests share one query)',
            },
            oidcProvider: {
              version: `oidc-provider ${oidcVersion} (the newest release that supports Node 20: 9.x needs Node 22)`,
              durability: 'none: its default in-memory adapter, nothing is written anywhere',
              accessToken: `JWT ${oidcHeader.alg} (typ ${oidcHeader.typ}), ${oidcToken.access_token.length} characters, via features.resourceIndicators accessTokenFormat 'jwt'`,
              refreshTokenRotation: 'off (rotateRefreshToken: false)',
              introspection: `of opaque client_credentials tokens (a second resource server with accessTokenFormat 'opaque'): a look-up in memory. Its JWT access tokens are not stored and introspect as ${JSON.stringify(jwtIntrospection)}`,
            },
          },
          scenarios: {
            client_credentials: 'POST token endpoint, grant_type=client_credentials, client_secret_basic',
            refresh_token_rotation: `POST token endpoint, grant_type=refresh_token, rotation on (authz: refreshTokenRotation Enabled; oidc-provider: rotateRefreshToken for ${ROTATING_CLIENT}); each worker presents its current token and keeps the successor`,
            refresh_token: `POST token endpoint, grant_type=refresh_token, public client, rotation off; one refresh token per worker (${CONCURRENCY}), each from an authorization code flow with PKCE through the server's own login page`,
            introspect: `POST introspection endpoint with client_secret_basic, cycling through ${INTROSPECT_TOKENS} distinct client_credentials access tokens`,
          },
          results,
          totalSeconds: round((performance.now() - started) / 1000),
        },
        null,
        2,
      ),
    );
  } finally {
    await Promise.all([authz.server.stop(), oidc?.server.stop()]);
    await adminSql(ADMIN_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((error) => log(`could not drop ${name}: ${error.message}`));
    await cleanUpKafka(BROKERS, name).catch((error) => log(`could not delete the topics ${name}.*: ${error.message}`));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
