import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import pg from 'pg';
import { DataSource, type EntityManager, type MigrationInterface, type QueryRunner } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import type { Transaction, UnitOfWork } from '@authz/application';

export interface DatabaseOptions {
  /** postgres:// URL (cluster mode); without it, embedded PostgreSQL (PGlite) in `dataDir`. */
  url?: string;
  dataDir?: string;
  poolSize?: number;
  migrations: (new () => MigrationInterface)[];
  entities: Function[];
  /**
   * Embedded mode: how long a call may wait for the single session, and how long a
   * transaction may hold it before it is rolled back.
   */
  timeoutMs?: number;
}

export const DEFAULT_DATABASE_TIMEOUT_MS = 30_000;

/** The embedded session was not free in time, or a transaction held it too long. */
export class DatabaseTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseTimeoutError';
  }
}

interface OpenTransaction {
  db: Database;
  manager: EntityManager;
  open: boolean;
}

/**
 * The embedded transaction the current call runs in. PGlite is one session: a call made from
 * inside a transaction that queued for the session would wait for that transaction, which
 * waits for the call. With this, such a call runs in the transaction instead, whether or not
 * its caller passed the transaction on. Only embedded mode enters it, so a cluster node never
 * pays for the promise hooks Node 20 needs to keep it.
 */
const current = new AsyncLocalStorage<OpenTransaction>();

/** Whether this call runs inside an embedded transaction that holds the session. */
export function insideEmbeddedTransaction(): boolean {
  return current.getStore()?.open === true;
}

const MIGRATION_LOCK = 7_263_001;
/** The relay's session is one of these while this node relays. */
const PREPARED_POOL_SIZE = 6;
const HOT_PATH_SETTINGS = '-c plan_cache_mode=force_generic_plan -c enable_seqscan=off';

/** A session of its own (e.g. to hold a session advisory lock), with named statements. */
export interface Session {
  query<T = Record<string, unknown>>(sql: string, parameters?: unknown[]): Promise<T[]>;
  prepared<T = Record<string, unknown>>(name: string, sql: string, parameters: unknown[]): Promise<T[]>;
}

export function managerOf(tx: Transaction): EntityManager {
  return tx as unknown as EntityManager;
}

/**
 * The one way the code reaches PostgreSQL. PGlite is a single session, so in embedded mode
 * every transaction and query is run one at a time: interleaved statements of two
 * transactions on one session would corrupt both.
 */
export class Database implements UnitOfWork {
  private queue: Promise<unknown> = Promise.resolve();
  /** Embedded mode: since when the session has been held by the call now running on it. */
  private busySince?: number;
  private readonly timeoutMs: number;
  private readonly commitListeners: (() => void)[] = [];
  /** What to run once each open transaction has committed, by its manager. */
  private readonly afterCommits = new WeakMap<EntityManager, (() => void)[]>();

  /**
   * Cluster mode: the connections of the hot path's prepared statements. Their sessions plan a
   * named statement once, generically: left to choose, PostgreSQL planned each call anew,
   * finding no generic plan for `= ANY($1)` cheaper than a custom one (0.3 ms a call). Every
   * statement here looks rows up by key, and without sequential scans: a generic plan made
   * while `events` was a few pages (a new cluster) scanned it whole on every call until the
   * next ANALYZE, and the relay's and the grant loads' did so under load.
   */
  private readonly statements?: pg.Pool;

  private constructor(
    readonly dataSource: DataSource,
    readonly embedded: boolean,
    url?: string,
    timeoutMs = DEFAULT_DATABASE_TIMEOUT_MS,
  ) {
    this.timeoutMs = timeoutMs;
    if (url) {
      this.statements = new pg.Pool({ connectionString: url, max: PREPARED_POOL_SIZE, options: HOT_PATH_SETTINGS });
      // An idle connection that dies (a restart, a terminated backend) is replaced on the next query.
      this.statements.on('error', () => undefined);
    }
  }

  static async open(options: DatabaseOptions): Promise<Database> {
    const common = {
      type: 'postgres' as const,
      migrations: options.migrations,
      entities: options.entities,
      synchronize: false,
      logging: false,
    };
    let dataSource: DataSource;
    if (options.url) {
      dataSource = new DataSource({ ...common, url: options.url, extra: { max: options.poolSize ?? 10 } });
    } else {
      if (!options.dataDir) throw new Error('embedded mode needs a data directory');
      mkdirSync(options.dataDir, { recursive: true });
      dataSource = new DataSource({ ...common, driver: new PGliteDriver({ dataDir: options.dataDir }).driver });
    }
    await dataSource.initialize();
    const db = new Database(dataSource, !options.url, options.url, options.timeoutMs);
    await db.migrate();
    return db;
  }

  /** Runs pending migrations; nodes starting together take turns through an advisory lock. */
  private async migrate(): Promise<void> {
    if (this.embedded) {
      await this.dataSource.runMigrations({ transaction: 'each' });
      return;
    }
    await this.withConnection(async (runner) => {
      await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        await this.dataSource.runMigrations({ transaction: 'each' });
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      }
    });
  }

  run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.transaction((manager) => work(manager as unknown as Transaction));
  }

  async transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.embedded && insideEmbeddedTransaction()) {
      throw new Error('embedded mode: a transaction cannot be opened inside another (one session); pass the open transaction on');
    }
    const pending: (() => void)[] = [];
    const result = await this.serial(() =>
      this.dataSource.transaction((manager) => {
        this.afterCommits.set(manager, pending);
        if (!this.embedded) return work(manager);
        return this.heldAtMost(manager, work);
      }),
    );
    this.committed();
    for (const callback of pending) callback();
    return result;
  }

  /**
   * Runs an embedded transaction's work with the session marked as its own, and rolls it back
   * (by failing) if it holds the session longer than the time limit: every other request of
   * the node waits for it.
   */
  private async heldAtMost<T>(manager: EntityManager, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const scope: OpenTransaction = { db: this, manager, open: true };
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DatabaseTimeoutError(`embedded mode: a transaction held the database session for more than ${this.timeoutMs} ms and was rolled back`)),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([current.run(scope, () => work(manager)), limit]);
    } finally {
      scope.open = false;
      clearTimeout(timer);
    }
  }

  /** Runs `callback` once the transaction `tx` has committed; never if it rolls back. */
  afterCommit(tx: Transaction, callback: () => void): void {
    const pending = this.afterCommits.get(managerOf(tx));
    if (!pending) throw new Error('afterCommit: not a transaction of this database');
    pending.push(callback);
  }

  /** Tells the listeners a write committed; for single statements that commit on their own. */
  committed(): void {
    for (const listener of this.commitListeners) listener();
  }

  /** Tells a listener in this process that a transaction committed (e.g. to wake the relay). */
  onCommit(listener: () => void): void {
    this.commitListeners.push(listener);
  }

  query<T = Record<string, unknown>>(sql: string, parameters: unknown[] = []): Promise<T[]> {
    return this.onSession((manager) => manager.query(sql, parameters));
  }

  /** Whether the database answers within `timeoutMs` (readiness); never waits longer. */
  async ping(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const answered = this.serial(() => this.dataSource.query('SELECT 1'), timeoutMs).then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([answered, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Embedded mode: why this node can no longer reach its database, when one call has held the
   * session past twice the time limit (a transaction is rolled back at the limit, so only a
   * wedged session gets there); undefined while it is healthy. A liveness probe restarts it.
   */
  stalled(): string | undefined {
    if (this.busySince === undefined) return undefined;
    const heldMs = Date.now() - this.busySince;
    if (heldMs <= 2 * this.timeoutMs) return undefined;
    return `the embedded database session has been held for ${Math.round(heldMs / 1000)} s`;
  }

  /**
   * A statement of the hot path, outside a transaction, written for a generic plan (lookups
   * by index). In cluster mode it is a named statement, parsed and planned once per
   * connection; `name` must always come with the same `sql`.
   */
  async prepared<T = Record<string, unknown>>(name: string, sql: string, parameters: unknown[]): Promise<T[]> {
    if (!this.statements) return this.query<T>(sql, parameters);
    return (await this.statements.query<T & pg.QueryResultRow>({ name, text: sql, values: parameters })).rows;
  }

  /** Reads outside a transaction, through TypeORM's repositories. */
  read<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.onSession(work);
  }

  /** Embedded mode: a call from inside a transaction runs in it; any other waits its turn. */
  private onSession<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.embedded) {
      const open = current.getStore();
      if (open?.open && open.db === this) return work(open.manager);
    }
    return this.serial(() => work(this.dataSource.manager));
  }

  /** A session of its own whose named statements are planned once (cluster mode only). */
  async withSession<T>(work: (session: Session) => Promise<T>): Promise<T> {
    if (!this.statements) throw new Error('withSession: cluster mode only');
    const client = await this.statements.connect();
    let broken: Error | undefined;
    // The session's backend may die while it is held (its queries then fail): not a crash.
    const lost = (error: Error) => (broken = error);
    client.on('error', lost);
    try {
      const run = async <R>(config: pg.QueryConfig): Promise<R[]> => (await client.query(config)).rows as R[];
      return await work({
        query: (text, values = []) => run({ text, values }),
        prepared: (name, text, values) => run({ name, text, values }),
      });
    } catch (error) {
      broken = error as Error;
      throw error;
    } finally {
      client.off('error', lost);
      // A session that failed may be dead or hold a lock: it is not handed out again.
      client.release(broken);
    }
  }

  /** A connection of its own, e.g. to hold a session advisory lock (cluster mode only). */
  async withConnection<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      return await work(runner);
    } finally {
      await runner.release();
    }
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.statements?.end();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }

  /**
   * Embedded mode: one call on the session at a time, in arrival order. A call that has not
   * had the session within `waitMs` fails (and is skipped when its turn comes), so that
   * nothing waits for ever behind a call that holds it.
   */
  private serial<T>(work: () => Promise<T>, waitMs = this.timeoutMs): Promise<T> {
    if (!this.embedded) return work();
    return new Promise<T>((resolve, reject) => {
      let waiting = true;
      const timer = setTimeout(() => {
        waiting = false;
        reject(new DatabaseTimeoutError(`embedded mode: the database session was not free within ${waitMs} ms`));
      }, waitMs);
      const turn = async () => {
        if (!waiting) return;
        waiting = false;
        clearTimeout(timer);
        this.busySince = Date.now();
        try {
          resolve(await work());
        } catch (error) {
          reject(error);
        } finally {
          this.busySince = undefined;
        }
      };
      this.queue = this.queue.then(turn, turn);
    });
  }
}
