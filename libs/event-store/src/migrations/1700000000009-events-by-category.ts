import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Projection lag (metrics, readiness) counts the events of a projection's stream categories
 * past its checkpoint. Without this index that is a scan of every later event, of all
 * categories: for a projection of rare events (parameters, clients), most of the table.
 */
export class EventsByCategory1700000000009 implements MigrationInterface {
  name = 'EventsByCategory1700000000009';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE INDEX events_by_category ON events ((split_part(stream_id, '-', 1)), position)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX events_by_category');
  }
}
