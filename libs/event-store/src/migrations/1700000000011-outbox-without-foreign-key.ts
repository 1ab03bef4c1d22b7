import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox's foreign key to events checked each new row by locking its event (FOR KEY
 * SHARE): one more WAL record per event appended. Outbox rows are written only by the
 * statement that inserts their events, and events are never deleted, so it guarded nothing.
 */
export class OutboxWithoutForeignKey1700000000011 implements MigrationInterface {
  name = 'OutboxWithoutForeignKey1700000000011';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_position_fkey');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE outbox ADD CONSTRAINT outbox_position_fkey FOREIGN KEY (position) REFERENCES events (position)');
  }
}
