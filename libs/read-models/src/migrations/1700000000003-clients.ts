import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Clients1700000000003 implements MigrationInterface {
  name = 'Clients1700000000003';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE clients (
        client_id     text PRIMARY KEY,
        client_name   text NOT NULL,
        type          text NOT NULL,
        redirect_uris jsonb NOT NULL,
        grant_types   jsonb NOT NULL,
        scope         text NOT NULL,
        created_at    timestamptz NOT NULL,
        created_by    text NOT NULL,
        position      bigint NOT NULL
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE clients');
  }
}
