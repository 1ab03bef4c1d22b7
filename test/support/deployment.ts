import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { runAuthz, type CliRun } from './cli';
import { KAFKA_BROKERS, ROOT, createDatabase, uniqueName, waitFor } from './infra';
import { api, basic, freePort, startNode, type Node } from './processes';

/**
 * The two ways authz is deployed (DESIGN §2): `embedded`, what `npm start` runs (one process,
 * PGlite under AUTHZ_DATA_DIR, an in-process transport, its projections inside, the admin
 * password generated in $AUTHZ_DATA_DIR/admin-password), and `cluster` (PostgreSQL and Kafka,
 * two server nodes that do not project, and a projector process).
 */
export type Mode = 'embedded' | 'cluster';
export const ALL_MODES: readonly Mode[] = ['embedded', 'cluster'];

/**
 * The modes a suite runs in: those it supports (both by default; a suite whose behaviour needs
 * Kafka passes ['cluster'] and says why), narrowed by AUTHZ_TEST_MODES (`embedded`, `cluster`
 * or both, comma-separated) for local iteration. Empty when the narrowing leaves nothing:
 * describeModes then skips the suite.
 */
export function modesFromEnv(supported: readonly Mode[] = ALL_MODES): Mode[] {
  const raw = process.env.AUTHZ_TEST_MODES?.trim();
  if (!raw) return [...supported];
  const wanted = raw.split(',').map((m) => m.trim()).filter(Boolean);
  for (const mode of wanted) {
    if (!ALL_MODES.includes(mode as Mode)) throw new Error(`AUTHZ_TEST_MODES: unknown mode "${mode}" (embedded, cluster)`);
  }
  return supported.filter((mode) => wanted.includes(mode));
}

/**
 * describe.each over the modes (`%s` in the title is the mode); a suite narrowed away by
 * AUTHZ_TEST_MODES is reported as skipped instead of failing on an empty table.
 */
export function describeModes(modes: readonly Mode[], title: string, suite: (mode: Mode) => void): void {
  if (modes.length === 0) {
    describe.skip(title.replace('%s', 'no'), () => {
      it.skip(`not in the modes AUTHZ_TEST_MODES=${process.env.AUTHZ_TEST_MODES} names`, () => undefined);
    });
    return;
  }
  describe.each([...modes])(title, suite);
}

export interface DeploymentOptions {
  /** A short name for the database, the topics and the data directory. */
  name?: string;
  /** Extra environment for every process (servers and projector). */
  env?: Record<string, string>;
  /** The node ids: cluster node-a and node-b by default; embedded uses the first. */
  nodeIds?: [string, string];
  /** Cluster mode: whether the projector runs from the start (default true). */
  projector?: boolean;
  /** Cluster mode: the admin password (a fixed one by default). */
  adminPassword?: string;
}

export interface Deployment {
  readonly mode: Mode;
  /** The first server node. */
  readonly a: Node;
  /** "The other node": node-b in cluster mode, the same node as `a` in embedded mode. */
  readonly b: Node;
  /** Every server node (one in embedded mode). */
  readonly nodes: Node[];
  /** The projector process while it runs (cluster mode only). */
  readonly projector: Node | undefined;
  readonly nodeIds: string[];
  readonly adminUser: string;
  readonly adminPassword: string;
  /** The admin's `Authorization: Basic …` header. */
  readonly admin: string;
  /**
   * Embedded mode: the operator's directory, holding the server's .authz-data (as after
   * `npm start` there); the CLI runs in it and finds the admin password itself.
   */
  readonly home: string | undefined;
  readonly dataDir: string | undefined;
  /** Cluster mode: the database, the topics' prefix, the KEK. */
  readonly databaseUrl: string | undefined;
  readonly topicPrefix: string | undefined;
  readonly kek: Buffer | undefined;
  /** The environment a server of this deployment was started with (without its node id and port). */
  readonly env: Record<string, string>;

  /** `authz …` as an operator of this deployment runs it (embedded: in `home`, password found by itself; cluster: credentials in the environment). */
  authz(args: string[], options?: { node?: Node; stdin?: string; env?: Record<string, string>; cwd?: string }): Promise<CliRun>;
  /** Cluster mode: stops (SIGTERM, or `signal`) / starts the projector; embedded mode has none (answers false, does nothing). */
  stopProjector(signal?: NodeJS.Signals): Promise<boolean>;
  startProjector(): Promise<boolean>;
  /** Stops a server node and starts it again with the same environment and port; answers the new node. */
  restart(node: Node): Promise<Node>;
  /**
   * Waits until every read model caught up with the event store: no projection lags on
   * /metrics (either mode; every node reports it), and in cluster mode also the outbox is
   * empty, the audit, which reads every event, holds as many entries as the store has events,
   * and every node answers the latest parameters (a cluster node caches them for a second).
   * Cluster mode needs the projector running for this.
   */
  caughtUp(timeoutMs?: number): Promise<void>;
  /** Cluster mode only: a query on the deployment's PostgreSQL database, while it runs. */
  query<T = Record<string, any>>(sql: string, parameters?: unknown[]): Promise<T[]>;
  /**
   * Writes to the database as set-up (e.g. rows a suite cannot make through the API in
   * the time of a test). Cluster: on the running database. Embedded: PGlite is one process, so
   * the node is stopped, the statement runs on its data directory from a process of its own,
   * and the node is started again on the same port. Answers the statement's rows.
   */
  seed<T = Record<string, any>>(sql: string, parameters?: unknown[]): Promise<T[]>;
  /** Stops every process, drops the database (cluster) and removes the data directory (embedded). */
  stop(): Promise<void>;
}

const DEFAULT_PASSWORD = 'deployment-admin-password';

/** Starts a deployment in `mode`; see Deployment. */
export async function startDeployment(mode: Mode, options: DeploymentOptions = {}): Promise<Deployment> {
  return mode === 'embedded' ? startEmbedded(options) : startCluster(options);
}

function common(mode: Mode, nodeIds: string[]) {
  const state = { servers: [] as Node[], envOf: new Map<Node, Record<string, string>>() };
  const start = async (env: Record<string, string>) => {
    const node = await startNode('server', env);
    state.envOf.set(node, { ...env, AUTHZ_PORT: new URL(node.url).port });
    return node;
  };
  const restart = async (node: Node) => {
    const index = state.servers.indexOf(node);
    if (index < 0) throw new Error(`${node.url} is not a server of this deployment (restarted already?)`);
    const env = state.envOf.get(node)!;
    node.process.kill('SIGCONT');
    await node.stop();
    const again = await start(env);
    state.servers[index] = again;
    return again;
  };
  return { mode, nodeIds, state, start, restart };
}

async function metricsLag(node: Node): Promise<Record<string, number>> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const lags: Record<string, number> = {};
  for (const match of text.matchAll(/^authz_projection_lag_events\{projection="([^"]+)"\} (\S+)$/gm)) lags[match[1]] = Number(match[2]);
  if (Object.keys(lags).length === 0) throw new Error(`no authz_projection_lag_events on ${node.url}/metrics`);
  return lags;
}

async function startEmbedded(options: DeploymentOptions): Promise<Deployment> {
  const nodeIds = [options.nodeIds?.[0] ?? 'embedded-1'];
  const home = mkdtempSync(join(tmpdir(), `authz-${options.name ?? 'e2e'}-`));
  const dataDir = join(home, '.authz-data');
  mkdirSync(dataDir);
  const env = { ...options.env, AUTHZ_DATA_DIR: dataDir };
  const base = common('embedded', nodeIds);
  try {
    base.state.servers.push(await base.start({ ...env, AUTHZ_NODE_ID: nodeIds[0] }));
  } catch (error) {
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
  const adminPassword = readFileSync(join(dataDir, 'admin-password'), 'utf8').trim();
  const deployment: Deployment = {
    mode: 'embedded',
    get a() {
      return base.state.servers[0];
    },
    get b() {
      return base.state.servers[0];
    },
    get nodes() {
      return [...base.state.servers];
    },
    projector: undefined,
    nodeIds,
    adminUser: 'admin',
    adminPassword,
    admin: basic('admin', adminPassword),
    home,
    dataDir,
    databaseUrl: undefined,
    topicPrefix: undefined,
    kek: undefined,
    env,
    authz: (args, run = {}) => runAuthz(args, { env: { AUTHZ_URL: (run.node ?? deployment.a).url, ...run.env }, cwd: run.cwd ?? home, stdin: run.stdin }),
    stopProjector: async () => false,
    startProjector: async () => false,
    restart: base.restart,
    caughtUp: async (timeoutMs = 60_000) => {
      await waitFor(async () => Object.values(await metricsLag(deployment.a)).every((n) => n === 0), timeoutMs, 'the embedded projections to catch up');
    },
    query: async () => {
      throw new Error('embedded mode: the test cannot open the database while the server holds it (PGlite is one process): check through the HTTP API or the CLI, or make the check cluster-only');
    },
    seed: async <T>(sql: string, parameters: unknown[] = []) => {
      const node = deployment.a;
      const envOfNode = base.state.envOf.get(node)!;
      await node.stop();
      let rows: T[];
      try {
        rows = await offlineQuery<T>(join(dataDir, 'pgdata'), sql, parameters);
      } finally {
        const again = await base.start(envOfNode);
        base.state.servers[0] = again;
      }
      return rows;
    },
    stop: async () => {
      await Promise.all(base.state.servers.map((n) => n.stop()));
      rmSync(home, { recursive: true, force: true });
    },
  };
  return deployment;
}

/** A statement on an embedded data directory no server holds, from a Node process of its own (plain PGlite, as the server opens it). */
function offlineQuery<T>(dataDir: string, sql: string, parameters: unknown[]): Promise<T[]> {
  const script = `
    import { PGlite } from '@electric-sql/pglite';
    const [dataDir, sql, parameters] = JSON.parse(process.argv[1]);
    const db = await PGlite.create({ dataDir });
    try {
      const result = await db.query(sql, parameters);
      process.stdout.write(JSON.stringify(result.rows));
    } finally {
      await db.close();
    }`;
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script, JSON.stringify([dataDir, sql, parameters])],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`offline query on ${dataDir} failed: ${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout || '[]'))),
    ),
  );
}

async function startCluster(options: DeploymentOptions): Promise<Deployment> {
  const nodeIds = [...(options.nodeIds ?? ['node-a', 'node-b'])];
  const name = options.name ?? 'e2e';
  const database = await createDatabase(`authz_${name.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`);
  const topicPrefix = uniqueName(name);
  const kek = randomBytes(32);
  const adminPassword = options.adminPassword ?? DEFAULT_PASSWORD;
  const env: Record<string, string> = {
    ...options.env,
    AUTHZ_DATABASE_URL: database.url,
    AUTHZ_KAFKA_BROKERS: KAFKA_BROKERS,
    AUTHZ_KAFKA_TOPIC_PREFIX: topicPrefix,
    AUTHZ_ADMIN_USER: 'admin',
    AUTHZ_ADMIN_PASSWORD: adminPassword,
    AUTHZ_KEK: kek.toString('base64'),
    AUTHZ_RUN_PROJECTIONS: 'false',
  };
  const base = common('cluster', nodeIds);
  let projector: Node | undefined;
  let projectors = 0;
  let sql: pg.Client | undefined;
  const startProjector = async () => {
    if (projector) return false;
    projector = await startNode('projector', { ...env, AUTHZ_NODE_ID: `projector-${++projectors}` });
    return true;
  };
  const stopAll = async () => {
    for (const node of [...base.state.servers, ...(projector ? [projector] : [])]) node.process.kill('SIGCONT');
    await Promise.all([...base.state.servers.map((n) => n.stop()), projector?.stop()]);
    await sql?.end().catch(() => undefined);
    sql = undefined;
    await database.drop();
  };
  try {
    // Both nodes start at once: one creates the admin account and the key ring, the other finds them.
    base.state.servers.push(...(await Promise.all(nodeIds.map((id) => base.start({ ...env, AUTHZ_NODE_ID: id })))));
    if (options.projector !== false) await startProjector();
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
  const query = async <T>(text: string, parameters: unknown[] = []) => {
    if (!sql) {
      sql = new pg.Client({ connectionString: database.url });
      await sql.connect();
    }
    return (await sql.query(text, parameters)).rows as T[];
  };
  const deployment: Deployment = {
    mode: 'cluster',
    get a() {
      return base.state.servers[0];
    },
    get b() {
      return base.state.servers[1];
    },
    get nodes() {
      return [...base.state.servers];
    },
    get projector() {
      return projector;
    },
    nodeIds,
    adminUser: 'admin',
    adminPassword,
    admin: basic('admin', adminPassword),
    home: undefined,
    dataDir: undefined,
    databaseUrl: database.url,
    topicPrefix,
    kek,
    env,
    authz: (args, run = {}) =>
      runAuthz(args, { env: { AUTHZ_URL: (run.node ?? deployment.a).url, AUTHZ_ADMIN_USER: 'admin', AUTHZ_ADMIN_PASSWORD: adminPassword, ...run.env }, cwd: run.cwd, stdin: run.stdin }),
    stopProjector: async (signal?: NodeJS.Signals) => {
      if (!projector) return false;
      await projector.stop(signal);
      projector = undefined;
      return true;
    },
    startProjector,
    restart: base.restart,
    caughtUp: async (timeoutMs = 60_000) => {
      if (!projector) throw new Error('caughtUp: the projector is stopped, nothing would catch up');
      await waitFor(
        async () => {
          const [{ outbox, events, audit }] = await query<{ outbox: number; events: number; audit: number }>(
            'SELECT (SELECT count(*) FROM outbox)::int AS outbox, (SELECT count(*) FROM events)::int AS events, (SELECT count(*) FROM audit_events)::int AS audit',
          );
          return outbox === 0 && audit === events && Object.values(await metricsLag(deployment.a)).every((n) => n === 0);
        },
        timeoutMs,
        'the projector to catch up',
      );
      // A cluster node caches the parameters for a second: wait until each answers the last change.
      const [last] = (await api(`${deployment.a.url}/admin/parameters/history?limit=1`, { auth: deployment.admin })).body as { position: number }[];
      for (const node of base.state.servers) {
        await waitFor(
          async () => ((await api(`${node.url}/admin/parameters`, { auth: deployment.admin })).body.position ?? -1) >= (last?.position ?? 0),
          timeoutMs,
          `${node.url} to answer the latest parameters`,
        );
      }
    },
    query,
    seed: query,
    stop: stopAll,
  };
  return deployment;
}

/** A port nobody listens on, for "unreachable server" checks. */
export const deadUrl = async () => `http://127.0.0.1:${await freePort()}`;
