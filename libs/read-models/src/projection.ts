import type { EntityManager } from 'typeorm';
import type { EventEnvelope, StreamCategory } from '@authz/contracts';

/**
 * A read model built from events. `apply` runs inside the transaction that also records the
 * projection's checkpoint, so it must only write through `manager`.
 */
export interface Projection {
  readonly name: string;
  readonly categories: readonly StreamCategory[];
  apply(manager: EntityManager, event: EventEnvelope): Promise<void>;
  /**
   * Applies several events, in order, as `apply` would one by one: for projections that can
   * write them in fewer statements (replays of a million events are round-trip bound).
   */
  applyBatch?(manager: EntityManager, events: readonly EventEnvelope[]): Promise<void>;
  /** Empties the read model before a rebuild from position 0. */
  clear(manager: EntityManager): Promise<void>;
}
