import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Admin revocation (seed S12) counts a user's live refresh tokens from the event store, not
 * from a projection that may lag: a partial index keeps that to the user's own grants.
 */
export class TokenIndex1700000000005 implements MigrationInterface {
  name = 'TokenIndex1700000000005';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE INDEX events_refresh_grants_by_user ON events ((data->>'userId'), position)
        WHERE type = 'TokenIssued' AND data->'refreshToken' IS NOT NULL`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX events_refresh_grants_by_user');
  }
}
