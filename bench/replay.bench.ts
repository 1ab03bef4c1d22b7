/**
 * Replay rate: a fresh database filled with 1,000,000 events of the types the read models
 * read (parameter changes, client registrations, token issues, refreshes and revocations), then a replay of every projection the runtime registers, from position 0 of the
 * event store, in one transaction, as `authz replay all` runs it. The reference, in the same
 * run: reading the same events through the same windows and decoding, applying nothing.
 * Run with `npm run bench -- replay` (needs `scripts/infra.sh up`); BENCH_EVENTS changes the count.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { STREAM_CATEGORIES } from '@authz/contracts';
import type { Transaction } from '@authz/application';
import { Database, PostgresEventStore } from '@authz/event-store';
import { InProcessTransport } from '@authz/messaging';
import { ProjectionRunner } from '@authz/read-models';
import { ENTITIES, MIGRATIONS, readModelProjections } from '@authz/runtime';

const ADMIN_URL = process.env.AUTHZ_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const FILL_CHUNK = 100_000;
const WINDOW = 5_000;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  await client.query(sql);
  await client.end();
}

/**
 * Events i in [first, last), by i % 1000, in the shapes of libs/contracts and in a mix an
 * authorization server sees (parameters change rarely, clients now and then, tokens all the time):
 *   0         EnterpriseParametersChanged (the one stream `parameters-cluster`)     0.1 %
 *   1–20      ClientRegistered (a stream each)                                      2 %
 *   21–199    TokenIssued, authorization_code with a refresh token (stream grant-<tid>) 17.9 %
 *   200–378   TokenRefreshed of the grant issued 179 events before (its version 2)  17.9 %
 *   379–399   TokenRevoked of the grant issued 358 events before (its version 3)    2.1 %
 *   400–999   TokenIssued, client_credentials (stream grant-<jti>)                  60 %
 */
const FILL = `
  WITH s AS (
    SELECT i, i % 1000 AS k,
      CASE WHEN i % 1000 < 200 THEN i WHEN i % 1000 < 379 THEN i - 179 ELSE i - 358 END AS g,
      timestamptz '2026-01-01' + i * interval '10 ms' AS at
    FROM generate_series($1::bigint, $2::bigint - 1) AS i),
  e AS (
    SELECT *, md5('t' || g)::uuid::text AS tid, md5('a' || i)::uuid::text AS jti,
      'bench-client-' || (g % 500) AS client, 'user-' || (g % 5000) AS usr,
      to_char(at + interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS access_expiry
    FROM s)
  INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, occurred_at, node_id, correlation_id, actor, data)
  SELECT gen_random_uuid(),
    CASE WHEN k = 0 THEN 'parameters-cluster' WHEN k < 21 THEN 'client-bench-' || i WHEN k < 400 THEN 'grant-' || tid ELSE 'grant-' || jti END,
    CASE WHEN k = 0 THEN i / 1000 + 1 WHEN k < 200 THEN 1 WHEN k < 379 THEN 2 WHEN k < 400 THEN 3 ELSE 1 END,
    CASE WHEN k = 0 THEN 'EnterpriseParametersChanged' WHEN k < 21 THEN 'ClientRegistered' WHEN k < 200 THEN 'TokenIssued'
         WHEN k < 379 THEN 'TokenRefreshed' WHEN k < 400 THEN 'TokenRevoked' ELSE 'TokenIssued' END,
    1, at, 'bench-node', 'bench-' || i,
    CASE WHEN k < 21 THEN 'user:admin' WHEN k < 400 THEN 'user:' || usr ELSE 'client:' || client END,
    CASE
      WHEN k = 0 THEN jsonb_build_object('changes', jsonb_build_object('accessTokenExpiryMinutes', 1 + (i / 1000) % 1440),
        'previous', jsonb_build_object('accessTokenExpiryMinutes', 1 + (i / 1000 + 1439) % 1440))
      WHEN k < 21 THEN jsonb_build_object('clientId', 'bench-' || i, 'clientName', 'Bench client ' || i, 'type', 'confidential',
        'redirectUris', '[]'::jsonb, 'grantTypes', '["client_credentials"]'::jsonb, 'scope', 'vm.read vm.write')
      WHEN k < 200 THEN jsonb_build_object('grantType', 'authorization_code', 'clientId', client, 'userId', usr, 'scope', 'vm.read',
        'accessToken', jsonb_build_object('jti', jti, 'expiresAt', access_expiry),
        'refreshToken', jsonb_build_object('tid', tid, 'hash', encode(sha256(('r' || g)::bytea), 'hex'),
          'expiresAt', to_char(at + interval '60 days', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
      WHEN k < 379 THEN jsonb_build_object('clientId', client, 'userId', usr, 'tid', tid,
        'accessToken', jsonb_build_object('jti', jti, 'expiresAt', access_expiry))
      WHEN k < 400 THEN jsonb_build_object('clientId', client, 'userId', usr, 'tid', tid, 'reason', 'client_request')
      ELSE jsonb_build_object('grantType', 'client_credentials', 'clientId', client, 'userId', null, 'scope', 'vm.read',
        'accessToken', jsonb_build_object('jti', jti, 'expiresAt', access_expiry))
    END
  FROM e`;

function rate(events: number, ms: number): number {
  return Math.round(events / (ms / 1000));
}

async function main() {
  const name = `authz_bench_replay_${Date.now().toString(36)}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const db = await Database.open({ url: url.toString(), migrations: MIGRATIONS, entities: ENTITIES });
  const store = new PostgresEventStore(db, 'bench-node');
  try {
    let started = performance.now();
    for (let first = 0; first < EVENTS; first += FILL_CHUNK) {
      await db.query(FILL, [first, Math.min(first + FILL_CHUNK, EVENTS)]);
      process.stderr.write(`\rfilled ${Math.min(first + FILL_CHUNK, EVENTS).toLocaleString('en')} events`);
    }
    await db.query('VACUUM ANALYZE events');
    const fillMs = performance.now() - started;
    process.stderr.write('\n');

    // The reference: the replay's reads alone, in one transaction as the replay does.
    started = performance.now();
    let scanned = 0;
    await db.run(async (tx: Transaction) => {
      const head = await store.headPosition(tx);
      for (let from = 0; from < head; from += WINDOW) scanned += (await store.readWindow(from, from + WINDOW, STREAM_CATEGORIES, tx)).length;
    });
    const scanMs = performance.now() - started;

    const runner = new ProjectionRunner(db, store, new InProcessTransport(), readModelProjections(), name);
    let lastReport = 0;
    started = performance.now();
    const result = await runner.replay(runner.projections, {
      from: 0,
      progress: ({ processed, total }) => {
        if (performance.now() - lastReport < 5_000) return;
        lastReport = performance.now();
        process.stderr.write(`replay: ${processed.toLocaleString('en')} of ${total.toLocaleString('en')} events, ${rate(processed, lastReport - started)} events/s\n`);
      },
    });
    const replayMs = performance.now() - started;
    const replayRate = rate(result.processed, replayMs);
    const scanRate = rate(scanned, scanMs);
    console.log(
      JSON.stringify(
        {
          benchmark: 'replay of every projection from position 0 of the event store (PostgreSQL)',
          events: EVENTS,
          fillSeconds: Number((fillMs / 1000).toFixed(1)),
          projections: runner.projections.map((p) => p.name),
          applied: result.applied,
          replay: { seconds: Number((replayMs / 1000).toFixed(1)), eventsPerSecond: replayRate },
          referenceScan: { events: scanned, seconds: Number((scanMs / 1000).toFixed(1)), eventsPerSecond: scanRate },
          ratioToScan: Number((replayRate / scanRate).toFixed(3)),
        },
        null,
        2,
      ),
    );
  } finally {
    await db.close();
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
