import type { EntityManager } from 'typeorm';
import type { EventEnvelope, StreamCategory } from '@authz/contracts';
import type { ErrorLogFields, EventTransport, Subscription } from '@authz/application';
import { Batcher, type Database, type PostgresEventStore } from '@authz/event-store';
import type { Projection } from './projection';
import { StoreFeed, type ReplayFeed, type ReplayProgress } from './replay-feeds';

export interface ProjectionStatus {
  projection: string;
  position: number;
  eventAt: string | null;
  appliedAt: string | null;
}

const CATCH_UP_BATCH = 1_000;
/** Deliveries of one projection applied together in one transaction, at most. */
const MERGED_DELIVERIES = 32;
/** How long a live batch waits for a replay of its projection before it fails (and its transport retries it). */
const BUSY_WAIT_MS = 10_000;
const BUSY_POLL_MS = 250;
/** How long a replay waits for another replay of the same projection (maybe on another node). */
const REPLAY_LOCK_TIMEOUT = '30s';

/** A projection failed on an event: names the event, and the request that caused it, for the log. */
export class ProjectionError extends Error {
  readonly logFields: ErrorLogFields;

  constructor(projection: string, event: EventEnvelope, cause: unknown) {
    super(`projection ${projection} failed on event ${event.eventId} (${event.type} at position ${event.position}): ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.logFields = { projection, eventId: event.eventId, eventType: event.type, position: event.position, correlationId: event.correlationId };
  }
}

export interface ReplayOptions {
  /**
   * 0: empty the read models and apply every event from the first. N > 0: keep them and
   * apply the events after position N that they have not applied yet (by stream version).
   */
  from: number;
  /** Default: the event store. */
  feed?: ReplayFeed;
  progress?: (progress: ReplayProgress) => void;
}

export interface ReplayResult {
  /** Events applied, by projection. */
  applied: Record<string, number>;
  /** Events read. */
  processed: number;
}

/** A 31-bit key per projection for its advisory lock (shared: live batches, exclusive: a replay). */
export function lockKey(name: string): number {
  let hash = 7_263_100;
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) | 0;
  return hash & 0x7fffffff;
}

/**
 * The events in order, through the projection's batch apply when it has one. A failure names
 * the event (one by one), or the batch's first (in a batch: the whole batch is rolled back).
 */
async function applyAll(manager: EntityManager, projection: Projection, events: readonly EventEnvelope[]): Promise<void> {
  if (projection.applyBatch) {
    try {
      await projection.applyBatch(manager, events);
    } catch (error) {
      throw new ProjectionError(projection.name, events[0], error);
    }
    return;
  }
  for (const event of events) {
    try {
      await projection.apply(manager, event);
    } catch (error) {
      throw new ProjectionError(projection.name, event, error);
    }
  }
}

/** Through `applyNew`: the events that were new, each once, in order. */
async function applyNewOnes(manager: EntityManager, projection: Projection, events: readonly EventEnvelope[]): Promise<EventEnvelope[]> {
  if (events.length === 0) return [];
  let positions: Set<number>;
  try {
    positions = new Set(await projection.applyNew!(manager, events));
  } catch (error) {
    throw new ProjectionError(projection.name, events[0], error);
  }
  return events.filter((e) => positions.delete(e.position));
}

function reads(projection: Projection, event: EventEnvelope): boolean {
  return projection.categories.some((c) => event.streamId.startsWith(`${c}-`));
}

function isLockTimeout(error: unknown): boolean {
  const driverError = (error as { driverError?: { code?: string } }).driverError ?? error;
  return (driverError as { code?: string }).code === '55P03';
}

/**
 * Feeds events to projections exactly once in effect: each event is applied in a transaction
 * that also moves the projection's per-stream version, and an event whose version is not
 * newer than the recorded one (a redelivery, or a duplicate publish) is skipped.
 */
export class ProjectionRunner {
  private readonly subscriptions: Subscription[] = [];
  private readonly appliedListeners: ((projection: string) => void)[] = [];
  private readonly writers = new Map<string, Batcher<readonly EventEnvelope[], number>>();
  private readonly deliveries = new Batcher<readonly EventEnvelope[], void>(undefined, (batches) => this.applyDeliveries(batches), {
    maxInFlight: 1,
    maxBatch: MERGED_DELIVERIES,
  });

  constructor(
    private readonly db: Database,
    private readonly store: PostgresEventStore,
    private readonly transport: EventTransport,
    readonly projections: readonly Projection[],
    private readonly groupPrefix: string,
  ) {}

  /**
   * Subscribes the node's projections to the transport as ONE consumer group: each event is
   * fetched and decoded once, and each delivery is applied to every projection that reads it in
   * one transaction (one commit, one WAL flush for all). A delivery that fails in one
   * projection fails whole and is delivered again. `catchUpFromStore` first replays from the
   * store what each projection has not seen: for a transport that keeps nothing (in-process).
   */
  async start(options: { catchUpFromStore: boolean }): Promise<void> {
    if (options.catchUpFromStore) for (const projection of this.projections) await this.catchUp(projection);
    const categories = [...new Set(this.projections.flatMap((p) => p.categories))];
    if (categories.length === 0) return;
    this.subscriptions.push(
      await this.transport.subscribe({ group: `${this.groupPrefix}.projections`, categories, fromBeginning: true }, (events) => this.deliveries.add(events)),
    );
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

  /**
   * Applies a batch in one transaction; answers how many events were new. Batches that arrive
   * while one of the same projection is being applied (its partitions are delivered side by
   * side) are applied together in the next transaction: they would wait for each other on the
   * projection's checkpoint anyway, and one transaction costs less than several.
   */
  async handleBatch(projection: Projection, events: readonly EventEnvelope[]): Promise<number> {
    if (events.length === 0) return 0;
    const applied = await this.writerFor(projection).add(events);
    if (applied > 0) this.notifyApplied(projection);
    return applied;
  }

  private writerFor(projection: Projection): Batcher<readonly EventEnvelope[], number> {
    let writer = this.writers.get(projection.name);
    if (!writer) {
      writer = new Batcher(undefined, (batches) => this.applyTogether(projection, batches), { maxInFlight: 1, maxBatch: MERGED_DELIVERIES });
      this.writers.set(projection.name, writer);
    }
    return writer;
  }

  /** One transaction for several deliveries; answers how many events of each were new. */
  private async applyTogether(projection: Projection, batches: (readonly EventEnvelope[])[]): Promise<number[]> {
    const [fresh] = await this.applyShares([[projection, batches.flat()]]);
    // An event in several of the deliveries counts for the first.
    const unclaimed = new Set(fresh);
    return batches.map((batch) => batch.filter((event) => unclaimed.delete(event)).length);
  }

  /** Several deliveries (partitions are delivered side by side) in one transaction, every projection's share of them. */
  private async applyDeliveries(batches: (readonly EventEnvelope[])[]): Promise<void[]> {
    const events = batches.flat();
    const applied = await this.applyShares(this.projections.map((p) => [p, events.filter((e) => reads(p, e))]));
    this.projections.forEach((projection, i) => {
      if (applied[i].length > 0) this.notifyApplied(projection);
    });
    return batches.map(() => undefined);
  }

  /** Each projection's events in one transaction, under the projections' shared locks; answers what each applied. */
  private applyShares(shares: [Projection, readonly EventEnvelope[]][]): Promise<EventEnvelope[][]> {
    return this.db.transaction(async (manager) => {
      await this.waitForReplay(manager, shares.map(([projection]) => projection));
      const applied: EventEnvelope[][] = [];
      for (const [projection, events] of shares) {
        applied.push(await this.applyEvents(manager, projection, events, (wanted) => this.claim(manager, projection, wanted)));
      }
      return applied;
    });
  }

  private notifyApplied(projection: Projection): void {
    for (const listener of this.appliedListeners) listener(projection.name);
  }

  /** Rebuilds one read model from position 0 of the event store. */
  async rebuild(projection: Projection): Promise<number> {
    return (await this.replay([projection], { from: 0 })).applied[projection.name];
  }

  /**
   * Replays events into these read models in ONE transaction that holds their locks
   * exclusively: readers see the old models until the commit swaps in the new ones, and live
   * deliveries wait (those of every projection: they are applied together), then skip what
   * the replay applied. Each event is read once and given to every projection of its category.
   */
  async replay(projections: readonly Projection[], options: ReplayOptions): Promise<ReplayResult> {
    const feed = options.feed ?? new StoreFeed(this.store);
    const applied: Record<string, number> = Object.fromEntries(projections.map((p) => [p.name, 0]));
    let processed = 0;
    await this.db.transaction(async (manager) => {
      await this.lockForReplay(manager, projections);
      if (options.from === 0) {
        for (const projection of projections) await this.reset(manager, projection);
      }
      const categories = [...new Set(projections.flatMap((p) => p.categories))] as StreamCategory[];
      await feed.read(
        manager,
        categories,
        options.from,
        async (events) => {
          for (const projection of projections) {
            applied[projection.name] += await this.replayBatch(manager, projection, events.filter((e) => reads(projection, e)));
          }
        },
        (progress) => {
          processed = progress.processed;
          options.progress?.(progress);
        },
      );
    });
    for (const projection of projections) this.notifyApplied(projection);
    return { applied, processed };
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
      const events = await this.store.readAll(after, CATCH_UP_BATCH);
      if (events.length === 0) return;
      await this.handleBatch(projection, events.filter((e) => reads(projection, e)));
      after = events[events.length - 1].position;
    }
  }

  /**
   * Live batches take the projection's lock shared, so that they run side by side but never
   * during a replay. They wait for a replay by polling rather than queueing on the lock: after
   * a while they fail, and the transport retries them, which keeps a Kafka consumer's group
   * membership alive (it heartbeats between attempts) through a replay of many minutes.
   */
  private async waitForReplay(manager: EntityManager, projections: readonly Projection[]): Promise<void> {
    const keys = projections.map((p) => lockKey(p.name));
    for (const deadline = Date.now() + BUSY_WAIT_MS; ; ) {
      const rows: { locked: boolean }[] = await manager.query(
        'SELECT pg_try_advisory_xact_lock_shared(key) AS locked FROM unnest($1::int[]) WITH ORDINALITY AS k (key, n) ORDER BY n',
        [keys],
      );
      const busy = projections.filter((_, i) => !rows[i].locked);
      if (busy.length === 0) return;
      if (Date.now() > deadline) throw new Error(`projection ${busy.map((p) => p.name).join(', ')} is being replayed; its live events wait`);
      await new Promise((resolve) => setTimeout(resolve, BUSY_POLL_MS));
    }
  }

  /** Takes the projections' locks exclusively, in one order, so that two replays of several cannot deadlock. */
  private async lockForReplay(manager: EntityManager, projections: readonly Projection[]): Promise<void> {
    await manager.query(`SET LOCAL lock_timeout = '${REPLAY_LOCK_TIMEOUT}'`);
    for (const projection of [...projections].sort((a, b) => lockKey(a.name) - lockKey(b.name))) {
      try {
        await manager.query('SELECT pg_advisory_xact_lock($1)', [lockKey(projection.name)]);
      } catch (error) {
        if (isLockTimeout(error)) throw new Error(`projection ${projection.name} is being replayed by another process; try again when it is done`);
        throw error;
      }
    }
    await manager.query('SET LOCAL lock_timeout TO DEFAULT');
  }

  private async reset(manager: EntityManager, projection: Projection): Promise<void> {
    await projection.clear(manager);
    await manager.query('DELETE FROM projection_stream_versions WHERE projection = $1', [projection.name]);
    await manager.query('DELETE FROM projection_checkpoints WHERE projection = $1', [projection.name]);
  }

  /**
   * Applies what of `events` the projection has not applied yet (`claim` tells, and records it)
   * or, with `applyNew`, what it finds new itself; moves the checkpoint past every event, those
   * it ignores included. Answers the events applied.
   */
  private async applyEvents(
    manager: EntityManager,
    projection: Projection,
    events: readonly EventEnvelope[],
    claim: (wanted: readonly EventEnvelope[]) => Promise<EventEnvelope[]>,
  ): Promise<EventEnvelope[]> {
    if (events.length === 0) return [];
    const wanted = projection.ignores ? events.filter((e) => !projection.ignores!(e)) : events;
    let applied: EventEnvelope[];
    if (projection.applyNew) {
      applied = await applyNewOnes(manager, projection, wanted);
    } else {
      const free = projection.idempotent ? wanted.filter((e) => projection.idempotent!(e)) : [];
      const claimed = free.length > 0 ? wanted.filter((e) => !projection.idempotent!(e)) : wanted;
      applied = claimed.length > 0 ? await claim(claimed) : [];
      // Idempotent events are applied every time they come, and counted never: whether one is
      // new is what the runner does not record.
      const applying = free.length > 0 ? [...applied, ...free].sort((a, b) => a.position - b.position) : applied;
      if (applying.length > 0) await applyAll(manager, projection, applying);
    }
    await this.checkpoint(manager, projection, events.reduce((a, b) => (b.position > a.position ? b : a)));
    return applied;
  }

  /** A replay's batch: what `applyEvents` applies, counted. */
  private async replayBatch(manager: EntityManager, projection: Projection, events: readonly EventEnvelope[]): Promise<number> {
    return (await this.applyEvents(manager, projection, events, (wanted) => this.claimForReplay(manager, projection, wanted))).length;
  }

  /**
   * Under the replay's exclusive lock nobody else moves these stream versions, so they are
   * read once per batch and written once per batch without locking rows, which is what makes
   * a replay faster than live delivery.
   */
  private async claimForReplay(manager: EntityManager, projection: Projection, events: readonly EventEnvelope[]): Promise<EventEnvelope[]> {
    const rows: { stream_id: string; version: number }[] = await manager.query(
      'SELECT stream_id, version FROM projection_stream_versions WHERE projection = $1 AND stream_id = ANY($2::text[])',
      [projection.name, [...new Set(events.map((e) => e.streamId))]],
    );
    const versions = new Map(rows.map((r) => [r.stream_id, r.version]));
    const moved = new Set<string>();
    const fresh: EventEnvelope[] = [];
    for (const event of events) {
      if (event.streamVersion <= (versions.get(event.streamId) ?? 0)) continue;
      versions.set(event.streamId, event.streamVersion);
      moved.add(event.streamId);
      fresh.push(event);
    }
    if (fresh.length === 0) return [];
    const streams = [...moved];
    await manager.query(
      `INSERT INTO projection_stream_versions (projection, stream_id, version)
       SELECT $1, stream_id, version FROM unnest($2::text[], $3::int[]) AS moved (stream_id, version)
       ON CONFLICT (projection, stream_id) DO UPDATE SET version = GREATEST(projection_stream_versions.version, EXCLUDED.version)`,
      [projection.name, streams, streams.map((stream) => versions.get(stream))],
    );
    return fresh;
  }

  /**
   * The batch's events this projection has not applied yet, with the streams' versions moved
   * past them: two statements per batch. The streams' rows are locked first, so a concurrent
   * delivery of the same events (a rebalance) waits for this transaction and then skips them.
   * A stream that had no row here but gets one from a concurrent transaction before the upsert
   * cannot be told apart safely: the batch fails, and its transport delivers it again.
   */
  private async claim(manager: EntityManager, projection: Projection, events: readonly EventEnvelope[]): Promise<EventEnvelope[]> {
    const latest = new Map<string, number>();
    for (const event of events) latest.set(event.streamId, Math.max(event.streamVersion, latest.get(event.streamId) ?? 0));
    // One order for the row locks of every batch, so that two batches cannot deadlock.
    const streams = [...latest.keys()].sort();
    const rows: { stream_id: string; version: number }[] = await manager.query(
      `SELECT stream_id, version FROM projection_stream_versions
        WHERE projection = $1 AND stream_id = ANY($2::text[]) ORDER BY stream_id FOR UPDATE`,
      [projection.name, streams],
    );
    const applied = new Map(rows.map((r) => [r.stream_id, r.version]));
    // Merged deliveries may hold an event twice: each stream version is fresh once, in order.
    const reached = new Map(applied);
    const fresh = events.filter((e) => {
      if (e.streamVersion <= (reached.get(e.streamId) ?? 0)) return false;
      reached.set(e.streamId, e.streamVersion);
      return true;
    });
    const moved = streams.filter((stream) => latest.get(stream)! > (applied.get(stream) ?? 0));
    if (moved.length === 0) return [];
    const upserted: { stream_id: string; inserted: boolean }[] = await manager.query(
      `INSERT INTO projection_stream_versions (projection, stream_id, version)
       SELECT $1, stream_id, version FROM unnest($2::text[], $3::int[]) AS moved (stream_id, version)
       ON CONFLICT (projection, stream_id) DO UPDATE SET version = GREATEST(projection_stream_versions.version, EXCLUDED.version)
       RETURNING stream_id, xmax = 0 AS inserted`,
      [projection.name, moved, moved.map((stream) => latest.get(stream))],
    );
    const raced = upserted.find((row) => !row.inserted && !applied.has(row.stream_id));
    if (raced) throw new Error(`projection ${projection.name}: stream ${raced.stream_id} was claimed by a concurrent delivery; the batch will be retried`);
    return fresh;
  }

  /** Once per batch, in the batch's transaction: the furthest position applied and that event's time. */
  private async checkpoint(manager: EntityManager, projection: Projection, last: EventEnvelope): Promise<void> {
    await manager.query(
      `INSERT INTO projection_checkpoints (projection, position, event_at, applied_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (projection) DO UPDATE SET
         position = GREATEST(projection_checkpoints.position, EXCLUDED.position),
         event_at = EXCLUDED.event_at, applied_at = now()`,
      [projection.name, last.position, last.occurredAt],
    );
  }
}
