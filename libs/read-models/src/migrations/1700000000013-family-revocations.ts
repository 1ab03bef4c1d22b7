import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * refreshtokendetails holds revocations of token families beside the admin's revocations of
 * users: a successor projected after its family's revocation (another stream, another
 * partition) is stored revoked. And it holds the last use of a token whose refresh (in the
 * stream of the access token it gave, another partition) came before the token itself.
 */
export class FamilyRevocations1700000000013 implements MigrationInterface {
  name = 'FamilyRevocations1700000000013';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE refresh_token_revocations ADD COLUMN family text');
    await runner.query('CREATE INDEX refresh_token_revocations_family ON refresh_token_revocations (family) WHERE family IS NOT NULL');
    await runner.query('CREATE TABLE refresh_token_early_uses (pkid text PRIMARY KEY, last_used_at timestamptz NOT NULL)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE refresh_token_early_uses');
    await runner.query('DROP INDEX refresh_token_revocations_family');
    await runner.query('ALTER TABLE refresh_token_revocations DROP COLUMN family');
  }
}
