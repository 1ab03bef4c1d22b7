import type { DomainEvent, EventEnvelope } from '@authz/contracts';
import { DomainError } from '@authz/domain';

/** Who asked, and which request: copied into every event's envelope. */
export interface RequestContext {
  actor: string;
  correlationId: string;
  /** The client's network address, where there is one. */
  sourceAddress?: string;
}

/** An open database transaction, opaque to the application: adapters know what it is. */
export interface Transaction {
  readonly kind: 'transaction';
}

/** Events for one stream, expected at a version. */
export interface StreamAppend {
  streamId: string;
  expectedVersion: number;
  events: readonly DomainEvent[];
  /**
   * The append decides something that appends conditioned on this stream rely on (a
   * revocation, a rotation): it waits for those in flight, and those after it see it.
   */
  decisive?: boolean;
}

/**
 * A stream an append read to decide, but does not write: the append commits only if the
 * stream is still at `version`, checked after any decisive append to it in flight committed.
 * Appends with conditions on one stream do not conflict with each other.
 */
export interface StreamCondition {
  streamId: string;
  version: number;
}

export interface EventStore {
  /**
   * Appends events to a stream if its current version is `expectedVersion`; otherwise
   * throws ConcurrencyError. Within `tx` when given, else in a transaction of its own.
   */
  append(
    streamId: string,
    expectedVersion: number,
    events: readonly DomainEvent[],
    context: RequestContext,
    tx?: Transaction,
  ): Promise<EventEnvelope[]>;
  /**
   * Appends to several streams at once: all of them or, when one is no longer at its expected
   * version, none (ConcurrencyError). Each stream may be named once. Answers each stream's events.
   * With `conditions`, also none when one of those streams moved (ConcurrencyError).
   */
  appendAll(appends: readonly StreamAppend[], context: RequestContext, conditions?: readonly StreamCondition[]): Promise<EventEnvelope[][]>;
  /** The stream's events in version order; within `tx` when given. */
  readStream(streamId: string, tx?: Transaction): Promise<EventEnvelope[]>;
  /** Whether any of these streams holds an event of one of these types: one query. */
  hasEvent(streamIds: readonly string[], types: readonly string[]): Promise<boolean>;
  /** Events with position > `afterPosition`, in position order; within `tx` when given. */
  readAll(afterPosition: number, limit: number, tx?: Transaction): Promise<EventEnvelope[]>;
}

export interface UnitOfWork {
  run<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
}

export class ConcurrencyError extends DomainError {
  constructor(streamId: string, expectedVersion: number) {
    super('CONCURRENCY_CONFLICT', `stream "${streamId}" is no longer at version ${expectedVersion}`, {
      streamId,
      expectedVersion,
    });
    this.name = 'ConcurrencyError';
  }
}

export const EVENT_STORE = Symbol('EventStore');
export const UNIT_OF_WORK = Symbol('UnitOfWork');
