import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Seed S11: `refreshtokendetails` with the seed's columns (pkid, refreshtokenindex = the
 * token's hash, userid, clientid, validity in UTC, state) plus what admin queries need; the
 * admin revocations it has seen; and the audit history, one row per event.
 */
export class TokenDetailsAndAudit1700000000004 implements MigrationInterface {
  name = 'TokenDetailsAndAudit1700000000004';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE refreshtokendetails (
        pkid              text PRIMARY KEY,
        refreshtokenindex text NOT NULL UNIQUE,
        userid            text,
        clientid          text NOT NULL,
        validity          timestamptz NOT NULL,
        state             text NOT NULL CHECK (state IN ('active', 'rotated', 'revoked')),
        scope             text NOT NULL,
        grant_type        text NOT NULL,
        family            text NOT NULL,
        parent_pkid       text,
        issued_at         timestamptz NOT NULL,
        issued_position   bigint NOT NULL,
        family_position   bigint NOT NULL,
        last_used_at      timestamptz,
        revoked_at        timestamptz,
        revoked_reason    text,
        node_id           text NOT NULL
      )`);
    await runner.query('CREATE INDEX refreshtokendetails_user ON refreshtokendetails (userid, issued_position)');
    await runner.query('CREATE INDEX refreshtokendetails_user_client ON refreshtokendetails (userid, clientid, issued_position)');
    await runner.query('CREATE INDEX refreshtokendetails_client ON refreshtokendetails (clientid, issued_position)');
    await runner.query('CREATE INDEX refreshtokendetails_state ON refreshtokendetails (state, issued_position)');
    await runner.query('CREATE INDEX refreshtokendetails_validity ON refreshtokendetails (validity, pkid)');
    await runner.query('CREATE INDEX refreshtokendetails_position ON refreshtokendetails (issued_position)');
    await runner.query('CREATE INDEX refreshtokendetails_family ON refreshtokendetails (family)');
    await runner.query(`
      CREATE TABLE refresh_token_revocations (
        position    bigint PRIMARY KEY,
        userid      text NOT NULL,
        clientid    text,
        occurred_at timestamptz NOT NULL,
        actor       text NOT NULL
      )`);
    await runner.query('CREATE INDEX refresh_token_revocations_user ON refresh_token_revocations (userid, position)');
    await runner.query(`
      CREATE TABLE audit_events (
        seq            bigserial PRIMARY KEY,
        position       bigint NOT NULL UNIQUE,
        event_id       uuid NOT NULL,
        occurred_at    timestamptz NOT NULL,
        type           text NOT NULL,
        actor          text NOT NULL,
        user_id        text,
        client_id      text,
        token_id       text,
        node_id        text NOT NULL,
        correlation_id text NOT NULL,
        summary        text NOT NULL,
        -- When the projection wrote the row: with occurred_at, the event's way to the read model.
        recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await runner.query('CREATE INDEX audit_events_user ON audit_events (user_id, seq)');
    await runner.query('CREATE INDEX audit_events_client ON audit_events (client_id, seq)');
    await runner.query('CREATE INDEX audit_events_type ON audit_events (type, seq)');
    await runner.query('CREATE INDEX audit_events_occurred ON audit_events (occurred_at)');
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of ['audit_events', 'refresh_token_revocations', 'refreshtokendetails']) await runner.query(`DROP TABLE ${table}`);
  }
}
