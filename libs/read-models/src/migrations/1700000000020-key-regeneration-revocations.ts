import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * refreshtokendetails remembers the signing key regenerations that revoked refresh tokens
 * (KeyRegenerated v2, `revokeRefreshTokens: true`): every token whose family began before one is
 * revoked, and a token projected after it (the key ring is another topic) is stored revoked.
 */
export class KeyRegenerationRevocations1700000000020 implements MigrationInterface {
  name = 'KeyRegenerationRevocations1700000000020';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE refresh_token_key_revocations (
        position    bigint PRIMARY KEY,
        occurred_at timestamptz NOT NULL,
        actor       text NOT NULL,
        kid         text
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE refresh_token_key_revocations');
  }
}
