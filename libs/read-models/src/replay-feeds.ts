import type { EntityManager } from 'typeorm';
import type { EventEnvelope, StreamCategory } from '@authz/contracts';
import type { EventHistory, Transaction } from '@authz/application';
import type { PostgresEventStore } from '@authz/event-store';

export interface ReplayProgress {
  /** Events read so far. */
  processed: number;
  /** Events to read: an estimate while the feed runs (the store may grow meanwhile). */
  total: number;
}

/** Where a replay reads its events from. */
export interface ReplayFeed {
  readonly source: 'store' | 'kafka';
  /**
   * Hands `apply`, batch by batch and in order per stream, the events of these categories
   * with a position after `after`, and reports how far it has got after each batch.
   */
  read(
    manager: EntityManager,
    categories: readonly StreamCategory[],
    after: number,
    apply: (events: EventEnvelope[]) => Promise<void>,
    progress: (progress: ReplayProgress) => void,
  ): Promise<void>;
}

/** Positions per read: at most this many events are held in memory at once. */
const WINDOW = 5_000;

/**
 * The event store, read inside the replay's transaction in windows of positions, up to the
 * last position at the end (events appended during the replay are read too). Progress
 * counts positions passed, whatever their category, so that it ends at the total.
 */
export class StoreFeed implements ReplayFeed {
  readonly source = 'store' as const;

  constructor(private readonly store: PostgresEventStore) {}

  async read(
    manager: EntityManager,
    categories: readonly StreamCategory[],
    after: number,
    apply: (events: EventEnvelope[]) => Promise<void>,
    progress: (progress: ReplayProgress) => void,
  ): Promise<void> {
    const tx = manager as unknown as Transaction;
    let head = await this.store.headPosition(tx);
    let total = Math.max(0, head - after);
    progress({ processed: 0, total });
    for (let from = after; ; ) {
      if (from >= head) {
        head = await this.store.headPosition(tx);
        if (from >= head) return;
        total = head - after;
      }
      const upTo = Math.min(from + WINDOW, head);
      const events = await this.store.readWindow(from, upTo, categories, tx);
      if (events.length > 0) await apply(events);
      from = upTo;
      progress({ processed: from - after, total });
    }
  }
}

/**
 * The Kafka topics of the categories, from their first offset to their ends when the replay
 * started (see KafkaTransport.readHistory). Order is per stream (per partition), as the live
 * consumers see it; events at or before `after` are read and skipped.
 */
export class HistoryFeed implements ReplayFeed {
  readonly source = 'kafka' as const;

  constructor(private readonly history: EventHistory) {}

  async read(
    _manager: EntityManager,
    categories: readonly StreamCategory[],
    after: number,
    apply: (events: EventEnvelope[]) => Promise<void>,
    progress: (progress: ReplayProgress) => void,
  ): Promise<void> {
    let total = 0;
    let processed = 0;
    await this.history.readHistory(
      categories,
      async (events) => {
        const wanted = events.filter((e) => e.position > after);
        if (wanted.length > 0) await apply(wanted);
        processed += events.length;
        progress({ processed, total });
      },
      (count) => {
        total = count;
        progress({ processed, total });
      },
    );
  }
}
