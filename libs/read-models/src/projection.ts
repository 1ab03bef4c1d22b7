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
  /**
   * Events of its categories it has no rule for (e.g. the grants of access tokens alone, for
   * refreshtokendetails): the runner neither applies them nor records their streams' versions.
   */
  ignores?(event: EventEnvelope): boolean;
  /**
   * Events it applies whatever was applied before, with the same effect (a last use): the
   * runner records no stream version for them, and may apply one twice.
   */
  idempotent?(event: EventEnvelope): boolean;
  /**
   * For a projection that skips by itself what it applied before (the audit: one row per
   * position, inserted ON CONFLICT DO NOTHING): applies the events in order and answers the
   * positions that were new. The runner then records no stream versions for it.
   */
  applyNew?(manager: EntityManager, events: readonly EventEnvelope[]): Promise<readonly number[]>;
  /** Empties the read model before a rebuild from position 0. */
  clear(manager: EntityManager): Promise<void>;
}
