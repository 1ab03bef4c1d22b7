import type { Database } from '@authz/event-store';
import type { Projection } from './projection';
import { lockKey } from './projection-runner';

export interface ProjectionLag {
  projection: string;
  /** Events of the projection's categories past its checkpoint. */
  events: number;
  /** Age of the oldest of them (0 when there is none). */
  seconds: number;
  /**
   * A replay holds the lock (on any node) of this projection or of another one of the list,
   * whose live deliveries this one shares (one consumer group): the lag is an operator's doing.
   */
  replaying?: boolean;
}

/**
 * How far each read model is behind the event store, from the shared tables, so that any node
 * can tell. The checkpoint is the furthest position applied: partitions are consumed
 * concurrently, so an older event of another partition may still be on its way (a lag a
 * little too low, never a false alarm). Ages are measured on the database's clock.
 *
 * One statement per projection, with its categories and checkpoint as values: the planner
 * then sees how rare the categories are and reads the events_by_category index, instead of
 * every event past the checkpoint (a projection of rare events sits far behind the head).
 */
export async function projectionLag(db: Database, projections: readonly Projection[]): Promise<ProjectionLag[]> {
  const checkpoints = await db.query<{ projection: string; position: string }>(
    'SELECT projection, position FROM projection_checkpoints WHERE projection = ANY($1::text[])',
    [projections.map((p) => p.name)],
  );
  const locks = await db.query<{ key: string }>(
    `SELECT objid AS key FROM pg_locks
      WHERE locktype = 'advisory' AND mode = 'ExclusiveLock' AND granted AND classid = 0 AND objsubid = 1
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  const held = new Set(locks.map((l) => Number(l.key)));
  const replaying = projections.some((p) => held.has(lockKey(p.name)));
  return Promise.all(
    projections.map(async (p) => {
      const checkpoint = checkpoints.find((c) => c.projection === p.name)?.position ?? '0';
      const [row] = await db.query<{ events: string; seconds: number | null }>(
        `SELECT count(*) AS events, extract(epoch FROM now() - min(occurred_at))::float8 AS seconds
           FROM events WHERE split_part(stream_id, '-', 1) = ANY($1::text[]) AND position > $2::bigint`,
        [p.categories, checkpoint],
      );
      const lag: ProjectionLag = { projection: p.name, events: Number(row.events), seconds: Math.max(0, row.seconds ?? 0) };
      return replaying ? { ...lag, replaying: true } : lag;
    }),
  );
}
