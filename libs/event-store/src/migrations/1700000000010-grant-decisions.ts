import type { MigrationInterface, QueryRunner } from 'typeorm';
import { TOKEN_REFRESHED } from '@authz/contracts';

/**
 * A refresh grant is decided from its first event and the few later ones that change it
 * (rotated, revoked), not from the TokenRefreshed it gathers on every refresh: read in full,
 * a token refreshed n times costs each refresh n rows. This index holds only those later
 * events; every stream's first event, and every refresh, stay out of it.
 */
export class GrantDecisions1700000000010 implements MigrationInterface {
  name = 'GrantDecisions1700000000010';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE INDEX events_after_first_but_refreshes ON events (stream_id, stream_version)
        WHERE stream_version > 1 AND type <> '${TOKEN_REFRESHED}'`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX events_after_first_but_refreshes');
  }
}
