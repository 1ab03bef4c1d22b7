import {
  PROJECTION_REPLAYED,
  newEvent,
  streamId,
  type EventEnvelope,
  type ProjectionReplayedV1,
} from '@authz/contracts';
import { appendToLog, type EventHistory, type RequestContext } from '@authz/application';
import { ValidationError } from '@authz/domain';
import type { PostgresEventStore } from '@authz/event-store';
import { HistoryFeed, KEY_CACHE_REPLAY, type KeyCache, type ProjectionRunner, type ReplayProgress } from '@authz/read-models';

export type ReplaySource = 'store' | 'kafka';

export interface ReplayRequest {
  /** A projection's name, `keys` (this node's key cache) or `all` (every projection, and the key cache). */
  projection: string;
  from: number;
  source: ReplaySource;
}

export interface ReplayOutcome {
  /** Events applied to each read model; for `keys`, the key ring events read. */
  applied: Record<string, number>;
  processed: number;
  durationMs: number;
}

const REPLAY_STREAM = streamId('maintenance', 'replay');
const FIELDS = ['projection', 'from', 'source'];

/**
 * Replays read models (through a ProjectionRunner: the node's own, or one that is never
 * started, on a node that does not run projections) and this node's key cache, then records
 * a ProjectionReplayed event per target. The event for `keys` makes every other node reload
 * its key cache (see KeyCache.start).
 */
export class Replayer {
  constructor(
    private readonly runner: ProjectionRunner,
    private readonly store: PostgresEventStore,
    private readonly keys: KeyCache | undefined,
    /** Kafka, in cluster mode: `source: kafka` reads its topics. */
    private readonly history: EventHistory | undefined,
  ) {}

  /** The names a request may give. */
  names(): string[] {
    return [...this.runner.projections.map((p) => p.name), ...(this.keys ? [KEY_CACHE_REPLAY] : []), 'all'];
  }

  /** What a name replays: `all` is every projection and the key cache. */
  targets(name: string): string[] {
    return name === 'all' ? this.names().filter((n) => n !== 'all') : [name];
  }

  /** Checks a request's body (400s that say what is wrong); `from` defaults to 0, `source` to the store. */
  async parse(body: unknown): Promise<ReplayRequest> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ValidationError('INVALID_REPLAY', 'send a JSON object such as {"projection": "all", "from": 0, "source": "store"}');
    }
    const fields = body as Record<string, unknown>;
    const unknown = Object.keys(fields).filter((k) => !FIELDS.includes(k));
    if (unknown.length > 0) throw new ValidationError('INVALID_REPLAY', `unknown field ${unknown[0]}: the fields are ${FIELDS.join(', ')}`);
    const { projection, from = 0, source = 'store' } = fields;
    const names = this.names();
    if (typeof projection !== 'string' || !names.includes(projection)) {
      throw new ValidationError(
        'UNKNOWN_PROJECTION',
        `${typeof projection === 'string' ? `no projection "${projection.slice(0, 64)}"` : 'projection is required'}: one of ${names.join(', ')}`,
        { projections: names },
      );
    }
    if (typeof from !== 'number' || !Number.isSafeInteger(from) || from < 0) {
      throw new ValidationError('INVALID_FROM', 'from must be an event position: a whole number, 0 or more (0 rebuilds from the first event)');
    }
    const head = await this.store.headPosition();
    if (from > head) throw new ValidationError('INVALID_FROM', `from ${from} is past the last event (position ${head})`);
    if (source !== 'store' && source !== 'kafka') throw new ValidationError('INVALID_SOURCE', 'source must be "store" or "kafka"');
    if (source === 'kafka' && !this.history) {
      throw new ValidationError('NO_KAFKA', 'source "kafka" needs Kafka, and this server runs without it (embedded mode): replay from the store');
    }
    return { projection, from, source };
  }

  async run(request: ReplayRequest, context: RequestContext, progress?: (progress: ReplayProgress) => void): Promise<ReplayOutcome> {
    const started = Date.now();
    const targets = this.targets(request.projection);
    const projections = this.runner.projections.filter((p) => targets.includes(p.name));
    const applied: Record<string, number> = {};
    let processed = 0;
    if (projections.length > 0) {
      const feed = request.source === 'kafka' ? new HistoryFeed(this.history!) : undefined;
      const result = await this.runner.replay(projections, { from: request.from, feed, progress });
      Object.assign(applied, result.applied);
      processed = result.processed;
    }
    if (targets.includes(KEY_CACHE_REPLAY)) {
      applied[KEY_CACHE_REPLAY] = await this.reloadKeys(request.source);
      if (projections.length === 0) {
        processed = applied[KEY_CACHE_REPLAY];
        progress?.({ processed, total: processed });
      }
    }
    const durationMs = Date.now() - started;
    await this.record(request, applied, durationMs, context);
    return { applied, processed, durationMs };
  }

  private async reloadKeys(source: ReplaySource): Promise<number> {
    if (source === 'store') return this.keys!.reload();
    const ring: EventEnvelope[] = [];
    await this.history!.readHistory(['keyring'], async (events) => void ring.push(...events));
    return this.keys!.reload(ring);
  }

  /** One ProjectionReplayed per target, in one append to `maintenance-replay`. */
  private async record(request: ReplayRequest, applied: Record<string, number>, durationMs: number, context: RequestContext): Promise<void> {
    const events = Object.entries(applied).map(([projection, count]) =>
      newEvent<ProjectionReplayedV1>(PROJECTION_REPLAYED, { projection, from: request.from, source: request.source, events: count, durationMs }),
    );
    await appendToLog(this.store, REPLAY_STREAM, events, context);
  }
}
