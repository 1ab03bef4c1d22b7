import { randomUUID } from 'node:crypto';
import { upcast, type DomainEvent, type EventEnvelope } from '@authz/contracts';
import { ConcurrencyError, type EventStore, type RequestContext, type Transaction } from '@authz/application';
import { managerOf, type Database } from './database';
import { GroupCommit, type GroupCommitOptions } from './group-commit';

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

interface SingleAppend {
  streamId: string;
  expectedVersion: number;
  event: DomainEvent;
  context: RequestContext;
  occurredAt: string;
}

/**
 * Single-event appends of many requests in one statement. Each row carries its own version
 * check; a row whose check fails, or whose version a concurrent writer took (ON CONFLICT),
 * is simply not inserted, and its append alone fails.
 */
const APPEND_BATCH = `
  WITH appended AS (
    INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, occurred_at,
                        node_id, correlation_id, actor, data)
    SELECT i.event_id, i.stream_id, i.stream_version, i.type, i.schema_version, i.occurred_at,
           i.node_id, i.correlation_id, i.actor, i.data
      FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::int[], $6::timestamptz[],
                  $7::text[], $8::text[], $9::text[], $10::jsonb[]) WITH ORDINALITY
           AS i (event_id, stream_id, stream_version, type, schema_version, occurred_at, node_id,
                 correlation_id, actor, data, n)
     WHERE (SELECT coalesce(max(e.stream_version), 0) FROM events e WHERE e.stream_id = i.stream_id) = i.stream_version - 1
     ORDER BY i.n
    ON CONFLICT (stream_id, stream_version) DO NOTHING
    RETURNING ${EVENT_COLUMNS}),
  queued AS (INSERT INTO outbox (position) SELECT position FROM appended)
  SELECT ${EVENT_COLUMNS} FROM appended`;

export class PostgresEventStore implements EventStore {
  private readonly appendedListeners: AppendedListener[] = [];
  private readonly group: GroupCommit<SingleAppend, EventRow | undefined>;

  constructor(
    private readonly db: Database,
    private readonly nodeId: string,
    groupCommit: GroupCommitOptions = { maxInFlight: 2, maxBatch: 500 },
  ) {
    this.group = new GroupCommit((a) => a.streamId, (batch) => this.appendBatch(batch), groupCommit);
  }

  /**
   * The version check, the insert and the outbox rows in one statement, so one round trip and,
   * outside a unit of work, one transaction. A single event outside a unit of work (what the
   * token endpoints append) joins the group commit; others are a statement of their own.
   */
  async append(
    streamId: string,
    expectedVersion: number,
    events: readonly DomainEvent[],
    context: RequestContext,
    tx?: Transaction,
  ): Promise<EventEnvelope[]> {
    if (events.length === 0) return [];
    const occurredAt = new Date().toISOString();
    if (!tx && events.length === 1) {
      const row = await this.group.append({ streamId, expectedVersion, event: events[0], context, occurredAt });
      if (!row) throw new ConcurrencyError(streamId, expectedVersion);
      const appended = [toEnvelope(row)];
      this.tellAppended(appended);
      return appended;
    }
    const params: unknown[] = [streamId, expectedVersion];
    const rows = events.map((event, i) => {
      const values = [
        randomUUID(),
        expectedVersion + i + 1,
        event.type,
        event.schemaVersion,
        occurredAt,
        this.nodeId,
        context.correlationId,
        context.actor,
        JSON.stringify(event.data),
      ];
      const [id, version, type, schema, at, node, correlation, actor, data] = values.map((_, j) => `$${params.length + j + 1}`);
      params.push(...values);
      return `(${id}::uuid, $1::text, ${version}::int, ${type}::text, ${schema}::int, ${at}::timestamptz, ${node}::text, ${correlation}::text, ${actor}::text, ${data}::jsonb)`;
    });
    const sql = `
      WITH appended AS (
        INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, occurred_at,
                            node_id, correlation_id, actor, data)
        SELECT * FROM (VALUES ${rows.join(', ')}) AS new_events
         WHERE (SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1) = $2::int
        RETURNING ${EVENT_COLUMNS}),
      queued AS (INSERT INTO outbox (position) SELECT position FROM appended)
      SELECT ${EVENT_COLUMNS} FROM appended ORDER BY stream_version`;
    let inserted: EventRow[];
    try {
      if (tx) {
        inserted = await managerOf(tx).query(sql, params);
      } else {
        inserted = await this.db.query<EventRow>(sql, params);
        this.db.committed();
      }
    } catch (error) {
      if (isStreamVersionConflict(error)) throw new ConcurrencyError(streamId, expectedVersion);
      throw error;
    }
    // No row: the stream had moved past the expected version.
    if (inserted.length === 0) throw new ConcurrencyError(streamId, expectedVersion);
    const appended = inserted.map(toEnvelope);
    if (tx) this.db.afterCommit(tx, () => this.tellAppended(appended));
    else this.tellAppended(appended);
    return appended;
  }

  /** One row per append, in the batch's order; undefined where the append lost its version check. */
  private async appendBatch(batch: SingleAppend[]): Promise<(EventRow | undefined)[]> {
    const rows = await this.db.prepared<EventRow>('authz_append_batch', APPEND_BATCH, [
      batch.map(() => randomUUID()),
      batch.map((a) => a.streamId),
      batch.map((a) => a.expectedVersion + 1),
      batch.map((a) => a.event.type),
      batch.map((a) => a.event.schemaVersion),
      batch.map((a) => a.occurredAt),
      batch.map(() => this.nodeId),
      batch.map((a) => a.context.correlationId),
      batch.map((a) => a.context.actor),
      batch.map((a) => JSON.stringify(a.event.data)),
    ]);
    this.db.committed();
    const byStream = new Map(rows.map((row) => [row.stream_id, row]));
    return batch.map((a) => byStream.get(a.streamId));
  }

  onAppended(listener: AppendedListener): void {
    this.appendedListeners.push(listener);
  }

  private tellAppended(events: readonly EventEnvelope[]): void {
    if (this.appendedListeners.length === 0) return;
    for (const listener of this.appendedListeners) {
      try {
        listener(events);
      } catch {
        // The events are committed whatever a listener does: its failure is not the appender's.
      }
    }
  }

  async readStream(streamId: string): Promise<EventEnvelope[]> {
    const rows = await this.db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY stream_version`,
      [streamId],
    );
    return rows.map(toEnvelope);
  }

  async hasEvent(streamIds: readonly string[], types: readonly string[]): Promise<boolean> {
    const rows = await this.db.query(
      'SELECT 1 FROM events WHERE stream_id = ANY($1::text[]) AND type = ANY($2::text[]) LIMIT 1',
      [streamIds, types],
    );
    return rows.length > 0;
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
