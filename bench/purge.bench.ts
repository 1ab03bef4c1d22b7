/**
 * The token endpoint while 1,000,000 expired refresh tokens are purged (seed S14: the original's
 * nightly flush spiked the CPU on a big table). One authz-server in cluster mode (a fresh
 * PostgreSQL database, the Kafka broker of scripts/infra.sh, projections in the same process),
 * BENCH_PURGE_ROWS (1,000,000) expired rows and BENCH_LIVE_ROWS (200,000) live ones written
 * straight into refreshtokendetails, then a closed loop of BENCH_CONCURRENCY (16) workers on
 * POST /oauth/token (client_credentials, client_secret_basic):
 *   1. without a purge, for BENCH_SECONDS (15) after BENCH_WARMUP_SECONDS (2): p50/p99;
 *   2. while POST /admin/purge deletes the expired rows with the server's defaults (batches of
 *      AUTHZ_PURGE_BATCH_SIZE 5,000, AUTHZ_PURGE_PAUSE_MS 50 apart, cap 1,000,000): p50/p99;
 *   3. without a purge again, for as long as 1: did the machine's load drift meanwhile?
 *   4. the reference (BENCH_REFERENCE=0 skips it): the same expired rows written again, then
 *      deleted as the seed's nightly flush did, in one `DELETE … WHERE validity < now()`, under
 *      the same load.
 * The goal: p99 during the purge within 2× of p99 without (1). Only 200 answers with a token count.
 *
 *   npm run bench -- purge      (or: npm run build && node dist/bench/purge.bench.js)
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { cleanUpKafka, freePort, machineBusyMs, percentile, processCpuMs } from './support/measure';
import { startServer, type Server } from './support/server';

const ADMIN_URL = process.env.AUTHZ_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BROKERS = process.env.AUTHZ_TEST_KAFKA_BROKERS ?? '127.0.0.1:19092';
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const PURGE_ROWS = Number(process.env.BENCH_PURGE_ROWS ?? 1_000_000);
const LIVE_ROWS = Number(process.env.BENCH_LIVE_ROWS ?? 200_000);
const REFERENCE = process.env.BENCH_REFERENCE !== '0';
const CLIENT = 'bench-service';

const log = (message: string) => process.stderr.write(`purge bench: ${message}\n`);
const round = (n: number, digits = 1) => Number(n.toFixed(digits));
const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(user)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function sql<T = Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The built authz-server as its own process; ready when /health answers 200. */
async function startAuthz(env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  return startServer('authz-server', 'dist/apps/authz-server/src/main.js', port, { ...env, AUTHZ_PORT: String(port) }, '/health');
}

async function call(url: string, init: { auth?: string; json?: unknown } = {}): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (init.auth) headers.authorization = init.auth;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, { method: 'POST', headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    return { status: response.status, body: text };
  }
}

/** CPU time (ms) of a process, all threads. */
/** Busy time of the whole machine, all cores, in ms. */
/** CONCURRENCY workers on POST /oauth/token, each sending its next request when the last one answered. */
class TokenLoad {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY, maxFreeSockets: CONCURRENCY });
  private readonly body = 'grant_type=client_credentials';
  private readonly headers: Record<string, string | number>;

  constructor(
    private readonly server: Server,
    auth: string,
  ) {
    this.headers = { authorization: auth, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(this.body) };
  }

  private send(): Promise<{ status: number; text: string }> {
    return new Promise((done, fail) => {
      const request = http.request({ agent: this.agent, host: '127.0.0.1', port: this.server.port, method: 'POST', path: '/oauth/token', headers: this.headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => done({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', fail);
      });
      request.on('error', fail);
      request.end(this.body);
    });
  }

  /** Runs until `until` resolves (or for `seconds`); answers the latencies of the successful requests. */
  async run(until: Promise<unknown> | number) {
    let stop = false;
    if (typeof until === 'number') setTimeout(() => (stop = true), until * 1000);
    else void until.finally(() => (stop = true));
    const latencies: number[] = [];
    const failures: Record<string, number> = {};
    const started = performance.now();
    const cpu0 = { server: processCpuMs(this.server.process.pid!), machine: machineBusyMs() };
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (!stop) {
          const sent = performance.now();
          try {
            const { status, text } = await this.send();
            if (status === 200 && text.includes('"access_token"')) latencies.push(performance.now() - sent);
            else failures[`HTTP ${status}`] = (failures[`HTTP ${status}`] ?? 0) + 1;
          } catch (error) {
            const key = `error ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
            failures[key] = (failures[key] ?? 0) + 1;
          }
        }
      }),
    );
    const elapsed = performance.now() - started;
    const sorted = Float64Array.from(latencies).sort();
    return {
      seconds: round(elapsed / 1000),
      okRequests: latencies.length,
      requestsPerSecond: Math.round((latencies.length * 1000) / elapsed),
      latencyMs: { p50: round(percentile(sorted, 50), 2), p99: round(percentile(sorted, 99), 2), max: round(sorted.at(-1) ?? NaN, 1) },
      failures,
      cpuPercentOfOneCore: {
        server: round(((processCpuMs(this.server.process.pid!) - cpu0.server) / elapsed) * 100, 0),
        machine: round(((machineBusyMs() - cpu0.machine) / elapsed) * 100, 0),
      },
    };
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The rows the refresh-token projection would hold: `count` of them, valid from `validity` on, 1 ms apart. */
function seedSql(prefix: string, count: number, validity: string): string {
  return `INSERT INTO refreshtokendetails (pkid, refreshtokenindex, userid, clientid, validity, state, scope, grant_type, family,
                                           issued_at, issued_position, family_position, node_id)
          SELECT '${prefix}-' || i, md5('${prefix}' || i), 'user-' || (i % 50000), 'client-' || (i % 20), (${validity}) + i * interval '1 ms',
                 (ARRAY['active', 'rotated', 'revoked'])[1 + i % 3], 'chat', 'authorization_code', 'family-' || (i / 4),
                 now() - interval '61 days', i, i, 'bench-node'
            FROM generate_series(1, ${count}) AS i`;
}

async function main() {
  const name = `authz_purgebench_${Date.now().toString(36)}`;
  const started = performance.now();
  await sql(ADMIN_URL, `CREATE DATABASE ${name}`);
  const databaseUrl = new URL(ADMIN_URL);
  databaseUrl.pathname = `/${name}`;
  const adminPassword = randomBytes(18).toString('base64url');
  let server: Server | undefined;
  try {
    server = await startAuthz({
      AUTHZ_DATABASE_URL: databaseUrl.toString(),
      AUTHZ_KAFKA_BROKERS: BROKERS,
      AUTHZ_KAFKA_TOPIC_PREFIX: name,
      AUTHZ_KEK: randomBytes(32).toString('base64'),
      AUTHZ_ADMIN_USER: 'admin',
      AUTHZ_ADMIN_PASSWORD: adminPassword,
      AUTHZ_NODE_ID: 'bench-node',
      AUTHZ_RUN_PROJECTIONS: 'true',
      // Only the purge this bench starts: no daily run in the middle.
      AUTHZ_PURGE_AT: 'off',
    });
    const admin = basic('admin', adminPassword);
    const client = await call(`${server.url}/admin/clients`, { auth: admin, json: { clientId: CLIENT, clientName: CLIENT, type: 'confidential', grantTypes: ['client_credentials'], scope: 'vm.read' } });
    if (client.status !== 201) throw new Error(`register the client: ${client.status} ${JSON.stringify(client.body)}`);
    const load = new TokenLoad(server, basic(CLIENT, client.body.clientSecret));

    const db = databaseUrl.toString();
    /** The expired rows, and the table as one that grew over weeks would be: statistics known, pages all-visible. */
    const seedExpired = async () => {
      await sql(db, seedSql('expired', PURGE_ROWS, `now() - interval '30 days'`));
      await sql(db, 'VACUUM ANALYZE refreshtokendetails');
    };
    log(`writing ${PURGE_ROWS} expired and ${LIVE_ROWS} live rows into refreshtokendetails…`);
    const seeded = performance.now();
    await sql(db, seedSql('live', LIVE_ROWS, `now() + interval '30 days'`));
    await seedExpired();
    const [{ size }] = await sql<{ size: string }>(db, "SELECT pg_size_pretty(pg_total_relation_size('refreshtokendetails')) AS size");
    log(`written in ${round((performance.now() - seeded) / 1000)} s (${size} with its indexes)`);

    log(`warm-up ${WARMUP_SECONDS} s, then ${SECONDS} s without a purge…`);
    await load.run(WARMUP_SECONDS);
    const before = await load.run(SECONDS);
    log(`without a purge: ${before.requestsPerSecond}/s, p50 ${before.latencyMs.p50} ms, p99 ${before.latencyMs.p99} ms`);

    log(`purging ${PURGE_ROWS} rows under the same load…`);
    const purgeStarted = performance.now();
    const purge = call(`${server.url}/admin/purge`, { auth: admin, json: { maxRows: PURGE_ROWS } });
    const during = await load.run(purge);
    const purged = await purge;
    const purgeSeconds = (performance.now() - purgeStarted) / 1000;
    if (purged.status !== 200) throw new Error(`POST /admin/purge: ${purged.status} ${JSON.stringify(purged.body)}`);
    log(`during the purge: ${during.requestsPerSecond}/s, p50 ${during.latencyMs.p50} ms, p99 ${during.latencyMs.p99} ms; ${purged.body.count} rows in ${purged.body.batches} batches, ${round(purgeSeconds)} s`);

    const after = await load.run(SECONDS);
    log(`after the purge: ${after.requestsPerSecond}/s, p50 ${after.latencyMs.p50} ms, p99 ${after.latencyMs.p99} ms`);
    const [left] = await sql<{ expired: string; live: string }>(
      db,
      'SELECT count(*) FILTER (WHERE validity < now()) AS expired, count(*) FILTER (WHERE validity >= now()) AS live FROM refreshtokendetails',
    );

    let reference;
    if (REFERENCE) {
      log(`reference: writing the ${PURGE_ROWS} expired rows again, then one DELETE of them all under the same load…`);
      await seedExpired();
      const deleteStarted = performance.now();
      const flush = sql(db, 'DELETE FROM refreshtokendetails WHERE validity < now()').then(() => (performance.now() - deleteStarted) / 1000);
      const duringFlush = await load.run(flush);
      const flushSeconds = await flush;
      log(`during one DELETE: ${duringFlush.requestsPerSecond}/s, p50 ${duringFlush.latencyMs.p50} ms, p99 ${duringFlush.latencyMs.p99} ms; ${round(flushSeconds)} s`);
      reference = {
        what: `the seed's nightly flush: DELETE FROM refreshtokendetails WHERE validity < now(), ${PURGE_ROWS} rows in one statement and one transaction (row locks on all of them until it commits)`,
        seconds: round(flushSeconds),
        rowsPerSecond: Math.round(PURGE_ROWS / flushSeconds),
        tokenEndpoint: duringFlush,
        ratioToWithout: { p50: round(duringFlush.latencyMs.p50 / before.latencyMs.p50, 2), p99: round(duringFlush.latencyMs.p99 / before.latencyMs.p99, 2) },
      };
    }
    load.close();

    const cores = cpus();
    console.log(
      JSON.stringify(
        {
          benchmark: 'token endpoint p99 with and without a purge of expired refresh tokens (cluster mode, one server process, PostgreSQL, Kafka)',
          machine: { cores: cores.length, cpu: cores[0]?.model, node: process.version },
          table: { expiredRows: PURGE_ROWS, liveRows: LIVE_ROWS, size, expiredLeft: Number(left.expired), liveLeft: Number(left.live) },
          load: {
            endpoint: 'POST /oauth/token grant_type=client_credentials, client_secret_basic; every token issued is an event appended to PostgreSQL and relayed to Kafka',
            concurrency: CONCURRENCY,
            generator: 'this process: node:http keep-alive, closed loop; only 200s with an access token count',
          },
          purge: {
            settings: 'server defaults: AUTHZ_PURGE_BATCH_SIZE 5000, AUTHZ_PURGE_PAUSE_MS 50; maxRows from the request',
            answer: purged.body,
            rowsPerSecond: Math.round(purged.body.count / (purged.body.durationMs / 1000)),
            wallSeconds: round(purgeSeconds),
          },
          tokenEndpoint: { withoutPurge: before, duringPurge: during, afterPurge: after },
          ratioDuringToWithout: {
            p50: round(during.latencyMs.p50 / before.latencyMs.p50, 2),
            p99: round(during.latencyMs.p99 / before.latencyMs.p99, 2),
            requestsPerSecond: round(during.requestsPerSecond / before.requestsPerSecond, 2),
            goal: 'p99 ≤ 2',
          },
          ratioAfterToWithout: { p99: round(after.latencyMs.p99 / before.latencyMs.p99, 2), what: 'drift of the machine (or of the table) between the runs' },
          reference: reference ?? 'skipped (BENCH_REFERENCE=0)',
          totalSeconds: round((performance.now() - started) / 1000),
        },
        null,
        2,
      ),
    );
  } catch (error) {
    if (server) log(`server output:\n${server.output().slice(-5_000)}`);
    throw error;
  } finally {
    await server?.stop();
    await sql(ADMIN_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((error) => log(`could not drop ${name}: ${error.message}`));
    await cleanUpKafka(BROKERS, name).catch((error) => log(`could not delete the topics ${name}.*: ${error.message}`));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
