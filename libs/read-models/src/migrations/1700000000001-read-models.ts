import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ReadModels1700000000001 implements MigrationInterface {
  name = 'ReadModels1700000000001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE projection_stream_versions (
        projection text NOT NULL,
        stream_id  text NOT NULL,
        version    integer NOT NULL,
        PRIMARY KEY (projection, stream_id)
      )`);
    await runner.query(`
      CREATE TABLE projection_checkpoints (
        projection text PRIMARY KEY,
        position   bigint NOT NULL,
        event_at   timestamptz,
        applied_at timestamptz
      )`);
    await runner.query(`
      CREATE TABLE enterprise_parameters (
        name       text PRIMARY KEY,
        value      jsonb NOT NULL,
        updated_at timestamptz NOT NULL,
        updated_by text NOT NULL,
        position   bigint NOT NULL
      )`);
    await runner.query(`
      CREATE TABLE enterprise_parameter_changes (
        position    bigint PRIMARY KEY,
        occurred_at timestamptz NOT NULL,
        actor       text NOT NULL,
        node_id     text NOT NULL,
        changes     jsonb NOT NULL,
        previous    jsonb NOT NULL
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of ['enterprise_parameter_changes', 'enterprise_parameters', 'projection_checkpoints', 'projection_stream_versions']) {
      await runner.query(`DROP TABLE ${table}`);
    }
  }
}
