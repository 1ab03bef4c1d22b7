import type { EntityManager } from 'typeorm';
import type { EventEnvelope } from '@authz/contracts';
import type { ErrorLogFields, EventTransport, Subscription, Transaction } from '@authz/application';
import type { Database, PostgresEventStore } from '@authz/event-store';
import type { Projection } from './projection';

export interface ProjectionStatus {
  projection: string;
  position: number;
  eventAt: string | null;
  appliedAt: string | null;
}

const REBUILD_BATCH = 1_000;

/** A projection failed on an event: names the event, and the request that caused it, for the log. */
export class ProjectionError extends Error {
  readonly logFields: ErrorLogFields;

  constructor(projection: string, event: EventEnvelope, cause: unknown) {
    super(`projection ${projection} failed on event ${event.eventId} (${event.type} at position ${event.position}): ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.logFields = { projection, eventId: event.eventId, eventType: event.type, position: event.position, correlationId: event.correlationId };
  }
}

/** A 31-bit key per projection for its advisory lock (shared: apply, exclusive: rebuild). */
function lockKey(name: string): number {
  let hash = 7_263_100;
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) | 0;
  return hash & 0x7fffffff;
}

/**
 * Feeds events to projections exactly once in effect: each event is applied in a transaction
 * that also moves the projection's per-stream version, and an event whose version is not
 * newer than the recorded one (a redelivery, or a duplicate publish) is skipped.
 */
export class ProjectionRunner {
  private readonly subscriptions: Subscription[] = [];
  private readonly appliedListeners: ((projection: string) => void)[] = [];

  constructor(
    private readonly db: Database,
    private readonly store: PostgresEventStore,
    private readonly transport: EventTransport,
    readonly projections: readonly Projection[],
    private readonly groupPrefix: string,
  ) {}

  /**
   * Subscribes every projection to the transport. `catchUpFromStore` first replays from the
   * store what the projection has not seen: for a transport that keeps nothing (in-process).
   */
  async start(options: { catchUpFromStore: boolean }): Promise<void> {
    for (const projection of this.projections) {
      if (options.catchUpFromStore) await this.catchUp(projection);
      this.subscriptions.push(
        await this.transport.subscribe(
          { group: `${this.groupPrefix}.projection.${projection.name}`, categories: projection.categories, fromBeginning: true },
          (events) => this.handleBatch(projection, events).then(() => undefined),
        ),
      );
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.subscriptions.splice(0).map((s) => s.close()));
  }

  /** Called after a transaction that changed a read model has committed. */
  onApplied(listener: (projection: string) => void): void {
    this.appliedListeners.push(listener);
  }

  /** Applies one event; answers false when it had been applied already. */
  async handle(projection: Projection, event: EventEnvelope): Promise<boolean> {
    return (await this.handleBatch(projection, [event])) === 1;
  }

  /** Applies a batch in one transaction; answers how many events were new. */
  async handleBatch(projection: Projection, events: readonly EventEnvelope[]): Promise<number> {
    if (events.length === 0) return 0;
    const applied = await this.db.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock_shared($1)', [lockKey(projection.name)]);
      let count = 0;
      for (const event of events) {
        try {
          if (await this.applyOnce(manager, projection, event)) count += 1;
        } catch (error) {
          throw new ProjectionError(projection.name, event, error);
        }
      }
      return count;
    });
    if (applied > 0) for (const listener of this.appliedListeners) listener(projection.name);
    return applied;
  }

  /**
   * Rebuilds a read model from position 0 of the event store in one transaction: readers see
   * the old model until the new one is complete, and live events wait for it.
   */
  async rebuild(projection: Projection): Promise<number> {
    const applied = await this.db.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [lockKey(projection.name)]);
      await projection.clear(manager);
      await manager.query('DELETE FROM projection_stream_versions WHERE projection = $1', [projection.name]);
      await manager.query('DELETE FROM projection_checkpoints WHERE projection = $1', [projection.name]);
      let count = 0;
      for (let after = 0; ; ) {
        const events = await this.store.readAll(after, REBUILD_BATCH, manager as unknown as Transaction);
        if (events.length === 0) return count;
        for (const event of events) {
          if (projection.categories.some((c) => event.streamId.startsWith(`${c}-`))) {
            if (await this.applyOnce(manager, projection, event)) count += 1;
          }
        }
        after = events[events.length - 1].position;
      }
    });
    for (const listener of this.appliedListeners) listener(projection.name);
    return applied;
  }

  async status(): Promise<ProjectionStatus[]> {
    const rows = await this.db.query<{ projection: string; position: string; event_at: Date | null; applied_at: Date | null }>(
      'SELECT projection, position, event_at, applied_at FROM projection_checkpoints',
    );
    return this.projections.map((p) => {
      const row = rows.find((r) => r.projection === p.name);
      return {
        projection: p.name,
        position: Number(row?.position ?? 0),
        eventAt: row?.event_at ? new Date(row.event_at).toISOString() : null,
        appliedAt: row?.applied_at ? new Date(row.applied_at).toISOString() : null,
      };
    });
  }

  private async catchUp(projection: Projection): Promise<void> {
    const [status] = (await this.status()).filter((s) => s.projection === projection.name);
    for (let after = status.position; ; ) {
      const events = await this.store.readAll(after, REBUILD_BATCH);
      if (events.length === 0) return;
      await this.handleBatch(projection, events.filter((e) => projection.categories.some((c) => e.streamId.startsWith(`${c}-`))));
      after = events[events.length - 1].position;
    }
  }

  private async applyOnce(manager: EntityManager, projection: Projection, event: EventEnvelope): Promise<boolean> {
    const fresh = await manager.query(
      `INSERT INTO projection_stream_versions (projection, stream_id, version) VALUES ($1, $2, $3)
       ON CONFLICT (projection, stream_id) DO UPDATE SET version = EXCLUDED.version
       WHERE projection_stream_versions.version < EXCLUDED.version
       RETURNING version`,
      [projection.name, event.streamId, event.streamVersion],
    );
    if (fresh.length === 0) return false;
    await projection.apply(manager, event);
    await manager.query(
      `INSERT INTO projection_checkpoints (projection, position, event_at, applied_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (projection) DO UPDATE SET
         position = GREATEST(projection_checkpoints.position, EXCLUDED.position),
         event_at = EXCLUDED.event_at, applied_at = now()`,
      [projection.name, event.position, event.occurredAt],
    );
    return true;
  }
}
