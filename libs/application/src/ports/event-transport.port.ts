import type { EventEnvelope, StreamCategory } from '@authz/contracts';

export interface Subscription {
  close(): Promise<void>;
}

export interface SubscribeOptions {
  /** Consumers sharing a group share the work; each group sees every event. */
  group: string;
  categories: readonly StreamCategory[];
  /** A new group starts at the oldest event kept rather than at the newest. */
  fromBeginning: boolean;
}

/** Named values about a failure (e.g. the event it failed on), for the log line that reports it. */
export type ErrorLogFields = Record<string, string | number>;

/**
 * Distributes committed events between processes: Kafka in cluster mode, in-process in
 * embedded mode. Delivery is at least once, in batches, in order per stream; handlers must
 * be idempotent. A handler that throws gets the same batch again; the transport logs the
 * failure with the error's `logFields` (see logFieldsOf).
 */
export interface EventTransport {
  publish(events: readonly EventEnvelope[]): Promise<void>;
  subscribe(options: SubscribeOptions, handle: (events: EventEnvelope[]) => Promise<void>): Promise<Subscription>;
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * A transport that keeps every event (Kafka, whose topics are kept for ever) can hand them
 * out again, e.g. to replay a read model from the topics rather than from the event store.
 */
export interface EventHistory {
  /**
   * Feeds `handle`, one batch at a time and in order per stream, every event of these
   * categories that the transport held when called (later ones are left out); first tells
   * `total` how many that is. Resolves when the last one has been handled.
   */
  readHistory(
    categories: readonly StreamCategory[],
    handle: (events: EventEnvelope[]) => Promise<void>,
    total?: (count: number) => void,
  ): Promise<void>;
}

export const EVENT_TRANSPORT = Symbol('EventTransport');
