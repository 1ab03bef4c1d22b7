import type { MigrationInterface, QueryRunner } from 'typeorm';

export class EventStore1700000000000 implements MigrationInterface {
  name = 'EventStore1700000000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE events (
        position        bigserial PRIMARY KEY,
        event_id        uuid NOT NULL UNIQUE,
        stream_id       text NOT NULL,
        stream_version  integer NOT NULL CHECK (stream_version > 0),
        type            text NOT NULL,
        schema_version  integer NOT NULL,
        occurred_at     timestamptz NOT NULL,
        node_id         text NOT NULL,
        correlation_id  text NOT NULL,
        actor           text NOT NULL,
        data            jsonb NOT NULL,
        CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
      )`);
    // Rows are written in the append's transaction and deleted once on Kafka: a transaction
    // that took a lower position but committed later still finds its row here, which a
    // "position > last published" reader would skip for ever.
    await runner.query(`CREATE TABLE outbox (position bigint PRIMARY KEY REFERENCES events (position))`);
    await runner.query(`
      CREATE TABLE user_credentials (
        user_id       text PRIMARY KEY,
        password_hash text NOT NULL,
        updated_at    timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE user_credentials');
    await runner.query('DROP TABLE outbox');
    await runner.query('DROP TABLE events');
  }
}
