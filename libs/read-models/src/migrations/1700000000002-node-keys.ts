import type { MigrationInterface, QueryRunner } from 'typeorm';

export class NodeKeys1700000000002 implements MigrationInterface {
  name = 'NodeKeys1700000000002';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE node_key_fingerprints (
        node_id     text NOT NULL,
        kind        text NOT NULL CHECK (kind IN ('signing', 'encryption')),
        kid         text NOT NULL,
        fingerprint text NOT NULL,
        last_seen   timestamptz NOT NULL,
        PRIMARY KEY (node_id, kind)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE node_key_fingerprints');
  }
}
