import type { Database } from '@authz/event-store';
import type { Projection } from './projection';

export interface ProjectionLag {
  projection: string;
  /** Events of the projection's categories past its checkpoint. */
  events: number;
  /** Age of the oldest of them (0 when there is none). */
  seconds: number;
}

/**
 * How far each read model is behind the event store, from the shared tables, so that any node
 * can tell. The checkpoint is the furthest position applied: partitions are consumed
 * concurrently, so an older event of another partition may still be on its way (a lag a
 * little too low, never a false alarm). Ages are measured on the database's clock.
 */
export async function projectionLag(db: Database, projections: readonly Projection[]): Promise<ProjectionLag[]> {
  const pairs = projections.flatMap((p) => p.categories.map((category) => [p.name, category]));
  if (pairs.length === 0) return [];
  const rows = await db.query<{ projection: string; events: string; seconds: number | null }>(
    `SELECT p.projection, sum(l.events) AS events, extract(epoch FROM now() - min(l.oldest))::float8 AS seconds
       FROM unnest($1::text[], $2::text[]) AS p (projection, category)
       LEFT JOIN projection_checkpoints c ON c.projection = p.projection
      CROSS JOIN LATERAL (
        SELECT count(*) AS events,
               (SELECT occurred_at FROM events
                 WHERE split_part(stream_id, '-', 1) = p.category AND position > coalesce(c.position, 0)
                 ORDER BY position LIMIT 1) AS oldest
          FROM events
         WHERE split_part(stream_id, '-', 1) = p.category AND position > coalesce(c.position, 0)) AS l
      GROUP BY p.projection`,
    [pairs.map(([name]) => name), pairs.map(([, category]) => category)],
  );
  return projections.map((p) => {
    const row = rows.find((r) => r.projection === p.name);
    return { projection: p.name, events: Number(row?.events ?? 0), seconds: Math.max(0, row?.seconds ?? 0) };
  });
}
