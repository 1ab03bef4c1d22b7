import { randomUUID } from 'node:crypto';
import { upcast, type DomainEvent, type EventEnvelope } from '@authz/contracts';
import { ConcurrencyError, type EventStore, type RequestContext, type StreamAppend, type StreamCondition, type Transaction } from '@authz/application';
import { managerOf, type Database } from './database';
import { Batcher, HOT_PATH_BATCHING, type BatcherOptions } from './batcher';

/** The columns of an event row, in the order EventRow names them. */
export const EVENT_COLUMNS = `position, event_id, stream_id, stream_version, type, schema_version, occurred_at,
  node_id, correlation_id, actor, data`;

export interface EventRow {
  position: string;
  event_id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  schema_version: number;
  occurred_at: Date;
  node_id: string;
  correlation_id: string;
  actor: string;
  data: unknown;
}

export function toEnvelope(row: EventRow): EventEnvelope {
  return upcast({
    eventId: row.event_id,
    type: row.type,
    schemaVersion: row.schema_version,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    position: Number(row.position),
    occurredAt: new Date(row.occurred_at).toISOString(),
    nodeId: row.node_id,
    correlationId: row.correlation_id,
    actor: row.actor,
    data: row.data,
  });
}

function isStreamVersionConflict(error: unknown): boolean {
  const driverError = (error as { driverError?: { code?: string; constraint?: string } }).driverError ?? error;
  const { code, constraint } = driverError as { code?: string; constraint?: string };
  return code === '23505' && (constraint === undefined || constraint === 'events_stream_version_unique');
}

/** Told of the events this store appended, once they are committed (e.g. to count them). */
export type AppendedListener = (events: readonly EventEnvelope[]) => void;

interface EventCheck {
  streamIds: readonly string[];
  types: readonly string[];
}

/** Appends to one or more streams that commit together or not at all. */
interface AppendSet {
  appends: readonly StreamAppend[];
  context: RequestContext;
  occurredAt: string;
  conditions: readonly StreamCondition[];
}

/** The advisory-lock namespace (first key of the two-key form) of streams' decisions. */
const STREAM_LOCKS = 0x53544d31;

/**
 * Shared locks on the streams appends are conditioned on, exclusive ones on the streams of
 * decisive appends; in one order (by key), so that two batches cannot deadlock, and each key
 * once, exclusive if any of the batch wants it so.
 */
const LOCK_STREAMS = `
  SELECT CASE WHEN l.exclusive THEN pg_advisory_xact_lock(${STREAM_LOCKS}, l.key)::text
              ELSE pg_advisory_xact_lock_shared(${STREAM_LOCKS}, l.key)::text END
    FROM (SELECT hashtext(s.stream_id) AS key, bool_or(s.exclusive) AS exclusive
            FROM unnest($1::text[], $2::boolean[]) AS s (stream_id, exclusive) GROUP BY 1 ORDER BY 1) l`;

interface AppendedRow {
  position: string;
  stream_id: string;
  stream_version: number;
}

/** An event as it is inserted: its envelope, but for the position the insert gives it, and its data as JSON. */
interface PendingEvent {
  envelope: Omit<EventEnvelope, 'position' | 'data'>;
  json: string;
  setNo: number;
  expected: number;
}

/**
 * Append sets, of one request or of many, in one statement. Each stream's version is checked
 * against the set's expectation; a set with a stale stream is left out whole (its result: no
 * rows), the others are inserted. A writer elsewhere that takes one of the versions meanwhile
 * makes the statement fail on the unique (stream, version) key. A set's conditions (streams it
 * read but does not write) are checked as its streams are. Only the positions come back:
 * the node has the rest, and sending the events' JSON back cost both sides.
 */
const APPEND_SETS = `
  WITH input AS (
    SELECT * FROM unnest($1::int[], $2::uuid[], $3::text[], $4::int[], $5::int[], $6::text[], $7::int[],
                         $8::timestamptz[], $9::text[], $10::text[], $11::jsonb[]) WITH ORDINALITY
      AS i (set_no, event_id, stream_id, stream_version, expected, type, schema_version, occurred_at,
            correlation_id, actor, data, n)),
  stale AS (
    SELECT c.set_no FROM (SELECT DISTINCT set_no, stream_id, expected FROM input
                          UNION ALL
                          SELECT * FROM unnest($13::int[], $14::text[], $15::int[])) c (set_no, stream_id, expected)
     WHERE (SELECT coalesce(max(e.stream_version), 0) FROM events e WHERE e.stream_id = c.stream_id) <> c.expected),
  appended AS (
    INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, occurred_at,
                        node_id, correlation_id, actor, data)
    SELECT event_id, stream_id, stream_version, type, schema_version, occurred_at, $12::text, correlation_id, actor, data
      FROM input WHERE set_no NOT IN (SELECT set_no FROM stale) ORDER BY n
    RETURNING position, stream_id, stream_version),
  queued AS (INSERT INTO outbox (position) SELECT position FROM appended)
  SELECT position, stream_id, stream_version FROM appended ORDER BY position`;

export class PostgresEventStore implements EventStore {
  private readonly appendedListeners: AppendedListener[] = [];
  private readonly groupCommit: Batcher<AppendSet, EventEnvelope[] | undefined>;
  private readonly eventChecks = new Batcher<EventCheck, boolean>(undefined, (checks) => this.hasEvents(checks), HOT_PATH_BATCHING);

  constructor(
    private readonly db: Database,
    private readonly nodeId: string,
    options: BatcherOptions = HOT_PATH_BATCHING,
  ) {
    this.groupCommit = new Batcher((set) => set.appends.map((a) => a.streamId), (batch) => this.appendBatch(batch), options);
  }

  /**
   * The version check, the insert and the outbox rows in one statement. Outside a unit of
   * work it joins the group commit: the appends of concurrent requests share one statement,
   * one transaction and one WAL flush.
   */
  async append(
    streamId: string,
    expectedVersion: number,
    events: readonly DomainEvent[],
    context: RequestContext,
    tx?: Transaction,
  ): Promise<EventEnvelope[]> {
    if (events.length === 0) return [];
    if (tx) return this.appendInTransaction({ streamId, expectedVersion, events }, context, tx);
    return (await this.appendAll([{ streamId, expectedVersion, events }], context))[0];
  }

  async appendAll(appends: readonly StreamAppend[], context: RequestContext, conditions: readonly StreamCondition[] = []): Promise<EventEnvelope[][]> {
    const streams = new Set(appends.map((a) => a.streamId));
    if (streams.size !== appends.length) throw new TypeError('appendAll: a stream may be named once');
    if (conditions.some((c) => streams.has(c.streamId))) throw new TypeError('appendAll: a stream appended to is checked at its expected version, not as a condition');
    const set: AppendSet = { appends: appends.filter((a) => a.events.length > 0), context, occurredAt: new Date().toISOString(), conditions };
    if (set.appends.length === 0) return appends.map(() => []);
    const appended = await this.groupCommit.add(set);
    if (!appended) throw new ConcurrencyError(set.appends[0].streamId, set.appends[0].expectedVersion);
    this.tellAppended(appended);
    return appends.map((a) => appended.filter((e) => e.streamId === a.streamId));
  }

  /** Always decisive: appends in a unit of work are few, and some decide (an admin revocation). */
  private async appendInTransaction(append: StreamAppend, context: RequestContext, tx: Transaction): Promise<EventEnvelope[]> {
    const set: AppendSet = { appends: [append], context, occurredAt: new Date().toISOString(), conditions: [] };
    const pending = this.pending([set]);
    let rows: AppendedRow[];
    try {
      if (!this.db.embedded) await managerOf(tx).query(LOCK_STREAMS, [[append.streamId], [true]]);
      rows = await managerOf(tx).query(APPEND_SETS, this.parameters(pending, [set]));
    } catch (error) {
      if (isStreamVersionConflict(error)) throw new ConcurrencyError(append.streamId, append.expectedVersion);
      throw error;
    }
    if (rows.length === 0) throw new ConcurrencyError(append.streamId, append.expectedVersion);
    const [appended] = this.positioned(pending, rows, 1);
    this.db.afterCommit(tx, () => this.tellAppended(appended));
    return appended;
  }

  /**
   * The rows of each set, in the batch's order; undefined for a set that lost a version check.
   * When a concurrent writer took a version, each set is tried alone, so that only the sets
   * that raced fail.
   */
  private async appendBatch(batch: AppendSet[]): Promise<(EventEnvelope[] | undefined)[]> {
    try {
      const pending = this.pending(batch);
      const rows = await this.insert(batch, this.parameters(pending, batch));
      this.db.committed();
      return this.positioned(pending, rows, batch.length).map((set) => (set.length > 0 ? set : undefined));
    } catch (error) {
      if (!isStreamVersionConflict(error)) throw error;
      if (batch.length === 1) return [undefined];
      return Promise.all(batch.map(async (set) => (await this.appendBatch([set]))[0]));
    }
  }

  /**
   * One statement, or, in cluster mode when a set is decisive or conditioned, one transaction
   * that takes the streams' locks first: the statement then reads what every decisive append
   * that held a lock committed (in one statement, its snapshot would predate the wait).
   * Embedded mode has one session: its statements never overlap.
   */
  private async insert(batch: readonly AppendSet[], parameters: unknown[]): Promise<AppendedRow[]> {
    const locks = batch.flatMap((set) => [
      ...set.appends.filter((a) => a.decisive).map((a) => [a.streamId, true] as const),
      ...set.conditions.map((c) => [c.streamId, false] as const),
    ]);
    if (this.db.embedded || locks.length === 0) return this.db.prepared<AppendedRow>('authz_append_sets', APPEND_SETS, parameters);
    const outcome = await this.db.withSession(async (session) => {
      await session.query('BEGIN');
      try {
        await session.prepared('authz_lock_streams', LOCK_STREAMS, [locks.map((l) => l[0]), locks.map((l) => l[1])]);
        const rows = await session.prepared<AppendedRow>('authz_append_sets', APPEND_SETS, parameters);
        await session.query('COMMIT');
        return { rows };
      } catch (error) {
        // A lost version check is an answer, not a broken session: it goes back to the pool.
        await session.query('ROLLBACK');
        return { error };
      }
    });
    if ('error' in outcome) throw outcome.error;
    return outcome.rows;
  }

  private pending(batch: readonly AppendSet[]): PendingEvent[] {
    return batch.flatMap((set, setNo) =>
      set.appends.flatMap(({ streamId, expectedVersion, events }) =>
        events.map((event, i) => ({
          envelope: {
            eventId: randomUUID(),
            type: event.type,
            schemaVersion: event.schemaVersion,
            streamId,
            streamVersion: expectedVersion + i + 1,
            occurredAt: set.occurredAt,
            nodeId: this.nodeId,
            correlationId: set.context.correlationId,
            actor: set.context.actor,
          },
          json: JSON.stringify(event.data),
          setNo,
          expected: expectedVersion,
        })),
      ),
    );
  }

  /** The statement's columns: one entry per event, its set's number and its stream's expectation; then each set's conditions. */
  private parameters(pending: readonly PendingEvent[], batch: readonly AppendSet[]): unknown[] {
    const columns: unknown[][] = Array.from({ length: 11 }, () => []);
    for (const { envelope: e, json, setNo, expected } of pending) {
      const row = [setNo, e.eventId, e.streamId, e.streamVersion, expected, e.type, e.schemaVersion, e.occurredAt, e.correlationId, e.actor, json];
      row.forEach((value, c) => columns[c].push(value));
    }
    const conditions = batch.flatMap((set, setNo) => set.conditions.map((c) => [setNo, c.streamId, c.version] as const));
    return [...columns, this.nodeId, conditions.map((c) => c[0]), conditions.map((c) => c[1]), conditions.map((c) => c[2])];
  }

  /**
   * The inserted events of each set, with their positions, in position order. The data is
   * read back from its JSON, as a reader of the store would see it (no Date, no undefined).
   */
  private positioned(pending: readonly PendingEvent[], rows: readonly AppendedRow[], sets: number): EventEnvelope[][] {
    const byVersion = new Map(pending.map((p) => [`${p.envelope.streamVersion}\0${p.envelope.streamId}`, p]));
    const inserted: EventEnvelope[][] = Array.from({ length: sets }, () => []);
    for (const row of rows) {
      const { envelope, json, setNo } = byVersion.get(`${row.stream_version}\0${row.stream_id}`)!;
      inserted[setNo].push(upcast({ ...envelope, position: Number(row.position), data: JSON.parse(json) }));
    }
    return inserted;
  }

  onAppended(listener: AppendedListener): void {
    this.appendedListeners.push(listener);
  }

  private tellAppended(events: readonly EventEnvelope[]): void {
    for (const listener of this.appendedListeners) {
      try {
        listener(events);
      } catch {
        // The events are committed whatever a listener does: its failure is not the appender's.
      }
    }
  }

  async readStream(streamId: string, tx?: Transaction): Promise<EventEnvelope[]> {
    const sql = `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY stream_version`;
    const rows: EventRow[] = tx ? await managerOf(tx).query(sql, [streamId]) : await this.db.query<EventRow>(sql, [streamId]);
    return rows.map(toEnvelope);
  }

  /** Concurrent checks (every introspection asks one) share one query. */
  hasEvent(streamIds: readonly string[], types: readonly string[]): Promise<boolean> {
    return this.eventChecks.add({ streamIds, types });
  }

  private async hasEvents(checks: readonly EventCheck[]): Promise<boolean[]> {
    const rows = await this.db.prepared<{ stream_id: string; type: string }>(
      'authz_has_events',
      'SELECT DISTINCT stream_id, type FROM events WHERE stream_id = ANY($1::text[]) AND type = ANY($2::text[])',
      [[...new Set(checks.flatMap((c) => c.streamIds))], [...new Set(checks.flatMap((c) => c.types))]],
    );
    const found = new Set(rows.map((r) => `${r.stream_id}\0${r.type}`));
    return checks.map((c) => c.streamIds.some((stream) => c.types.some((type) => found.has(`${stream}\0${type}`))));
  }

  async readAll(afterPosition: number, limit: number, tx?: Transaction): Promise<EventEnvelope[]> {
    const sql = `SELECT ${EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2`;
    const rows: EventRow[] = tx
      ? await managerOf(tx).query(sql, [afterPosition, limit])
      : await this.db.query<EventRow>(sql, [afterPosition, limit]);
    return rows.map(toEnvelope);
  }

  /**
   * Events of these categories with `after` < position <= `upTo`, in position order: a window
   * of positions rather than a row limit, so that a reader that skips other categories still
   * knows how far it has got.
   */
  async readWindow(after: number, upTo: number, categories: readonly string[], tx?: Transaction): Promise<EventEnvelope[]> {
    const sql = `SELECT ${EVENT_COLUMNS} FROM events
      WHERE position > $1 AND position <= $2 AND split_part(stream_id, '-', 1) = ANY($3::text[]) ORDER BY position`;
    const params = [after, upTo, categories];
    const rows: EventRow[] = tx ? await managerOf(tx).query(sql, params) : await this.db.query<EventRow>(sql, params);
    return rows.map(toEnvelope);
  }

  async headPosition(tx?: Transaction): Promise<number> {
    const sql = 'SELECT max(position) AS head FROM events';
    const [row]: { head: string | null }[] = tx ? await managerOf(tx).query(sql) : await this.db.query(sql);
    return Number(row.head ?? 0);
  }
}
