import type { EventEnvelope } from '@authz/contracts';
import type { EventTransport } from '@authz/application';
import type { Database, Session } from './database';
import { EVENT_COLUMNS, toEnvelope, type EventRow } from './postgres-event-store';

export interface RelayOptions {
  batchSize?: number;
  /**
   * How often the leader looks at the outbox, in ms. Appends on this node wake it at once;
   * others' are found by polling, not NOTIFY: PostgreSQL serialises the commits of
   * transactions that NOTIFY, which cost the append path 40% of its throughput.
   */
  pollMs?: number;
  /** How long a standby waits before trying to become the relay again, in ms. */
  standbyMs?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

const RELAY_LOCK = 7_263_002;

/** Events committed and not yet published, from whichever node appended them. */
export async function outboxBacklog(db: Database): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox');
  return row.n;
}
const MAX_BACKOFF_MS = 5_000;

/**
 * Deletes what was published ($1), and reads the next batch: the oldest rows left, looked up
 * by position (a join let the planner walk the events from the first whenever the outbox's
 * statistics were stale). The read's snapshot still holds the rows being deleted: they are
 * left out by name.
 */
const NEXT_BATCH = `
  WITH published AS (DELETE FROM outbox WHERE position = ANY($1::bigint[]))
  SELECT ${EVENT_COLUMNS} FROM events
   WHERE position = ANY (ARRAY(SELECT position FROM outbox WHERE position <> ALL($1::bigint[]) ORDER BY position LIMIT $2))
   ORDER BY position`;

/**
 * Publishes committed events from the outbox to the transport, in position order, and
 * deletes them once the transport has them: at least once, never lost. In cluster mode only
 * the node holding a session advisory lock relays; when it dies its session ends, the lock
 * is freed and a standby takes over.
 */
export class OutboxRelay {
  private running = false;
  private loop?: Promise<void>;
  private wakeUp?: () => void;
  /** Set by wake(): something may have committed since the outbox was last read. */
  private dirty = false;
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly standbyMs: number;
  private readonly log: NonNullable<RelayOptions['log']>;
  private leader = false;
  private published = 0;

  constructor(
    private readonly db: Database,
    private readonly transport: EventTransport,
    options: RelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.pollMs = options.pollMs ?? 20;
    this.standbyMs = options.standbyMs ?? 1_000;
    this.log = options.log ?? (() => undefined);
    db.onCommit(() => this.wake());
  }

  get isLeader(): boolean {
    return this.leader;
  }

  get publishedCount(): number {
    return this.published;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.db.embedded ? this.embeddedLoop() : this.leaderLoop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  wake(): void {
    this.dirty = true;
    this.wakeUp?.();
  }

  backlog(): Promise<number> {
    return outboxBacklog(this.db);
  }

  private async embeddedLoop(): Promise<void> {
    while (this.running) {
      try {
        // PGlite is one session: the database is the relay's session.
        await this.relay(this.db);
      } catch (error) {
        this.log('error', `outbox relay: ${(error as Error).message}`);
        await this.sleep(this.standbyMs);
      }
    }
  }

  private async leaderLoop(): Promise<void> {
    while (this.running) {
      try {
        await this.db.withSession(async (session) => {
          const [{ locked }] = await session.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [RELAY_LOCK]);
          if (!locked) return;
          this.leader = true;
          this.log('info', 'outbox relay: this node now relays events');
          try {
            await this.relay(session);
          } finally {
            this.leader = false;
            await session.query('SELECT pg_advisory_unlock($1)', [RELAY_LOCK]).catch(() => undefined);
          }
        });
      } catch (error) {
        this.leader = false;
        this.log('warn', `outbox relay: lost its database session: ${(error as Error).message}`);
      }
      if (this.running) await this.sleep(this.standbyMs);
    }
  }

  private async relay(session: Session): Promise<void> {
    let backoff = 100;
    // Published and not yet deleted: the next read deletes them in the same statement.
    let published: number[] = [];
    try {
      while (this.running) {
        this.dirty = false;
        const batch: EventEnvelope[] = (await session.prepared<EventRow>('authz_relay_next', NEXT_BATCH, [published, this.batchSize])).map(toEnvelope);
        published = [];
        if (batch.length === 0) {
          await this.sleep(this.pollMs);
          continue;
        }
        try {
          await this.transport.publish(batch);
          backoff = 100;
        } catch (error) {
          this.log('warn', `outbox relay: publish failed, will retry in ${backoff} ms: ${(error as Error).message}`);
          await this.sleep(backoff, false);
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
          continue;
        }
        published = batch.map((e) => e.position);
        this.published += batch.length;
      }
    } finally {
      if (published.length > 0) await session.query('DELETE FROM outbox WHERE position = ANY($1::bigint[])', [published]).catch(() => undefined);
    }
  }

  /** Sleeps until the time is up, or until woken when `wakeable`. stop() always wakes it. */
  private sleep(ms: number, wakeable = true): Promise<void> {
    if ((wakeable && this.dirty) || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        if (wakeable || !this.running) done();
      };
    });
  }
}
