import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExpiredTokenPurge, PURGE_STREAM, PurgeRunningError, type PurgeSettings } from '@authz/application';
import { REFRESH_TOKENS_PURGED, type RefreshTokensPurgedV1 } from '@authz/contracts';
import { Database, PostgresEventStore } from '@authz/event-store';
import { PostgresExpiredTokenStore } from '@authz/read-models';
import { ENTITIES, MIGRATIONS } from '@authz/runtime';
import { waitFor } from '../support/infra';
import { realStore } from '../support/runtime';

const SETTINGS: PurgeSettings = { batchSize: 5_000, pauseMs: 50, maxRows: 1_000_000, graceSeconds: 0, nodeId: 'node-a' };
const manual = { actor: 'user:admin', correlationId: 'purge-test' };

/**
 * Rows as the refresh-token projection writes them, straight into the read model: `count`
 * rows named <prefix>-<i>, two by two with the same validity (so that ties are ordered by
 * pkid), the three states in turn, validity from `from` on, 10 ms apart.
 */
async function seed(db: Database, prefix: string, count: number, from: string): Promise<void> {
  await db.query(
    `INSERT INTO refreshtokendetails (pkid, refreshtokenindex, userid, clientid, validity, state, scope, grant_type, family,
                                      issued_at, issued_position, family_position, node_id)
     SELECT $1 || '-' || i, 'hash-' || $1 || '-' || i, 'user-' || (i % 997), 'client-' || (i % 7),
            (${from}) + (i / 2) * interval '10 ms', (ARRAY['active', 'rotated', 'revoked'])[1 + i % 3], 'chat',
            'authorization_code', 'family-' || (i / 3), now() - interval '60 days', i, i, 'seed'
       FROM generate_series(1, $2::int) AS i`,
    [prefix, count],
  );
}

const count = async (db: Database, where = 'true') => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM refreshtokendetails WHERE ${where}`))[0].n;
/** Every column of the live rows, hashed in pkid order: any change to any of them changes it. */
const liveFingerprint = async (db: Database) =>
  (await db.query<{ md5: string }>(`SELECT md5(string_agg(t::text, '|' ORDER BY pkid)) AS md5 FROM refreshtokendetails t WHERE validity >= now()`))[0].md5;
const purgeEvents = async (db: Database) =>
  db.query<{ stream_version: number; actor: string; node_id: string; data: RefreshTokensPurgedV1; type: string }>(
    'SELECT stream_version, actor, node_id, data, type FROM events WHERE stream_id = $1 ORDER BY stream_version',
    [PURGE_STREAM],
  );

describe('purge of expired refresh tokens (real PostgreSQL)', () => {
  let env: Awaited<ReturnType<typeof realStore>>;
  let purge: ExpiredTokenPurge;
  const log: string[] = [];

  beforeAll(async () => {
    env = await realStore('node-a');
    purge = new ExpiredTokenPurge(new PostgresExpiredTokenStore(env.db), env.store, SETTINGS, (level, message) => log.push(`${level} ${message}`));
    // The database's own record of every DELETE on the table: its rows, its transaction, and
    // the timeouts it ran under; independent of what the job says about itself.
    await env.db.query('CREATE TABLE purge_batches (seq serial, txid bigint, rows int, lock_timeout text, statement_timeout text)');
    await env.db.query(`
      CREATE FUNCTION log_purge_batch() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO purge_batches (txid, rows, lock_timeout, statement_timeout)
        SELECT txid_current(), count(*), current_setting('lock_timeout'), current_setting('statement_timeout') FROM gone;
        RETURN NULL;
      END $$`);
    await env.db.query(
      'CREATE TRIGGER purge_batches AFTER DELETE ON refreshtokendetails REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION log_purge_batch()',
    );
  });

  afterAll(async () => {
    await purge?.stop();
    await env?.close();
  });

  beforeEach(async () => {
    await env.db.query('DELETE FROM refreshtokendetails');
    await env.db.query('TRUNCATE purge_batches');
    log.length = 0;
  });

  it('200,000 expired rows: batches of at most 5,000, each its own transaction with timeouts; live rows untouched; one event', async () => {
    await seed(env.db, 'expired', 200_000, `now() - interval '30 days'`);
    await seed(env.db, 'live', 3_000, `now() + interval '1 day'`);
    // Expired a minute ago: gone too (grace 0).
    await seed(env.db, 'just-expired', 10, `now() - interval '1 minute'`);
    const live = await liveFingerprint(env.db);
    const [{ last }] = await env.db.query<{ last: string }>(
      `SELECT to_char(max(validity) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS last FROM refreshtokendetails WHERE validity < now()`,
    );
    await env.db.query('TRUNCATE purge_batches');

    const summary = await purge.run({ trigger: 'manual', context: manual });

    expect(summary).toMatchObject({ count: 200_010, batches: 41, largestBatch: 5_000, capped: false, trigger: 'manual', through: last });
    // From the database: 41 DELETE statements in 41 transactions, none over 5,000 rows.
    const batches = await env.db.query<{ txid: string; rows: number; lock_timeout: string; statement_timeout: string }>('SELECT * FROM purge_batches ORDER BY seq');
    expect(batches).toHaveLength(41);
    expect(new Set(batches.map((b) => b.txid)).size).toBe(41);
    expect(Math.max(...batches.map((b) => b.rows))).toBe(5_000);
    expect(batches.slice(0, 40).every((b) => b.rows === 5_000)).toBe(true);
    expect(batches[40].rows).toBe(10);
    expect(batches.reduce((sum, b) => sum + b.rows, 0)).toBe(200_010);
    expect(new Set(batches.map((b) => `${b.lock_timeout} ${b.statement_timeout}`))).toEqual(new Set(['500ms 10s']));

    expect(await count(env.db, 'validity < now()')).toBe(0);
    expect(await count(env.db)).toBe(3_000);
    expect(await liveFingerprint(env.db)).toBe(live);

    const events = await purgeEvents(env.db);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: REFRESH_TOKENS_PURGED, actor: 'user:admin', node_id: 'node-a' });
    expect(events[0].data).toEqual({
      cutoff: summary.cutoff,
      through: last,
      count: 200_010,
      batches: 41,
      capped: false,
      durationMs: summary.durationMs,
      trigger: 'manual',
    });
    expect(Date.parse(summary.cutoff)).toBeLessThanOrEqual(Date.now());
    expect(summary.position).toBeGreaterThan(0);
    // One log line per run, one per 20 batches.
    expect(log.filter((l) => l.startsWith('info purge progress'))).toHaveLength(2);
    expect(log.filter((l) => l.startsWith('info purge done'))).toHaveLength(1);
    expect(JSON.parse(log.find((l) => l.startsWith('info purge done'))!.replace('info purge done ', ''))).toMatchObject({ count: 200_010, batches: 41 });
    expect(purge.status()).toMatchObject({ running: false, deleted: 0, lastRun: summary, totals: { runs: 1, rows: 200_010, batches: 41 } });
  });

  it('the cap stops a run with capped: true; the next run takes the rest; a run exactly at the cap is not capped', async () => {
    await seed(env.db, 'expired', 12_000, `now() - interval '2 days'`);
    const first = await purge.run({ trigger: 'manual', maxRows: 7_000, context: manual });
    expect(first).toMatchObject({ count: 7_000, batches: 2, capped: true });
    expect(await count(env.db)).toBe(5_000);
    // The oldest went first: none is left before the last one deleted.
    expect(await count(env.db, `validity < '${first.through}'`)).toBe(0);

    const rest = await purge.run({ trigger: 'manual', maxRows: 5_000, context: manual });
    expect(rest).toMatchObject({ count: 5_000, batches: 1, capped: false });
    expect(await count(env.db)).toBe(0);
    expect((await env.db.query<{ rows: number }>('SELECT rows FROM purge_batches ORDER BY seq')).map((b) => b.rows)).toEqual([5_000, 2_000, 5_000]);
  });

  it('a grace period keeps rows expired less than that long ago', async () => {
    const graceful = new ExpiredTokenPurge(new PostgresExpiredTokenStore(env.db), env.store, { ...SETTINGS, graceSeconds: 3_600 });
    await seed(env.db, 'old', 100, `now() - interval '2 hours'`);
    await seed(env.db, 'recent', 100, `now() - interval '10 minutes'`);
    const summary = await graceful.run({ trigger: 'manual', context: manual });
    expect(summary.count).toBe(100);
    expect(Date.now() - Date.parse(summary.cutoff)).toBeGreaterThanOrEqual(3_600_000);
    expect(await count(env.db, "pkid LIKE 'recent-%'")).toBe(100);
    expect(await count(env.db, "pkid LIKE 'old-%'")).toBe(0);
  });

  it('a scheduled run that finds nothing records no event; a manual one does', async () => {
    await seed(env.db, 'live', 10, `now() + interval '1 day'`);
    const before = (await purgeEvents(env.db)).length;
    const scheduled = await purge.run({ trigger: 'schedule' });
    expect(scheduled).toMatchObject({ count: 0, batches: 1, through: null, position: null });
    expect(await purgeEvents(env.db)).toHaveLength(before);
    const asked = await purge.run({ trigger: 'manual', context: manual });
    const events = await purgeEvents(env.db);
    expect(events).toHaveLength(before + 1);
    expect(events.at(-1)!.data).toMatchObject({ count: 0, through: null, trigger: 'manual' });
    expect(asked.position).not.toBeNull();
  });

  it('a scheduled run that deletes rows is recorded as the system of its node', async () => {
    await seed(env.db, 'expired', 10, `now() - interval '1 day'`);
    await purge.run({ trigger: 'schedule' });
    expect((await purgeEvents(env.db)).at(-1)).toMatchObject({ actor: 'system:node-a', data: { count: 10, trigger: 'schedule' } });
  });

  it('two nodes purging at the same time: exactly one runs, the other is told a purge is running', async () => {
    const url = env.url;
    const other = await Database.open({ url, migrations: MIGRATIONS, entities: ENTITIES });
    const nodeB = new ExpiredTokenPurge(new PostgresExpiredTokenStore(other), new PostgresEventStore(other, 'node-b'), { ...SETTINGS, nodeId: 'node-b' });
    try {
      await seed(env.db, 'expired', 50_000, `now() - interval '1 day'`);
      const before = (await purgeEvents(env.db)).length;

      // Started together.
      const outcomes = await Promise.allSettled([purge.run({ trigger: 'schedule' }), nodeB.run({ trigger: 'schedule' })]);
      const ran = outcomes.filter((o) => o.status === 'fulfilled');
      const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(ran).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect(refused[0].reason).toBeInstanceOf(PurgeRunningError);
      expect(refused[0].reason.message).toContain('another node');
      expect((ran[0] as PromiseFulfilledResult<{ count: number }>).value.count).toBe(50_000);
      expect(await purgeEvents(env.db)).toHaveLength(before + 1);
      expect(purge.status().totals.alreadyRunning + nodeB.status().totals.alreadyRunning).toBe(1);

      // One asks while the other is half-way through: refused at once, without deleting anything.
      await seed(env.db, 'expired-again', 50_000, `now() - interval '1 day'`);
      await env.db.query('TRUNCATE purge_batches');
      const running = purge.run({ trigger: 'manual', context: manual });
      await waitFor(() => purge.status().batches >= 2, 30_000, 'node A to be purging');
      await expect(nodeB.run({ trigger: 'manual', context: manual })).rejects.toThrow(PurgeRunningError);
      // And a second run on the same node.
      await expect(purge.run({ trigger: 'manual', context: manual })).rejects.toThrow('already running on this node');
      expect(purge.status()).toMatchObject({ running: true, trigger: 'manual' });
      expect((await running).count).toBe(50_000);
      expect((await env.db.query<{ n: number }>('SELECT sum(rows)::int AS n FROM purge_batches'))[0].n).toBe(50_000);

      // Once it is done, the other node may purge.
      await seed(env.db, 'expired-third', 10, `now() - interval '1 day'`);
      expect((await nodeB.run({ trigger: 'manual', context: manual })).count).toBe(10);
      expect((await purgeEvents(env.db)).at(-1)).toMatchObject({ node_id: 'node-b' });
    } finally {
      await nodeB.stop();
      await other.close();
    }
  });

  it('stop() ends a run after its batch and records what it deleted; no run starts afterwards', async () => {
    const stoppable = new ExpiredTokenPurge(new PostgresExpiredTokenStore(env.db), env.store, { ...SETTINGS, pauseMs: 200 });
    await seed(env.db, 'expired', 30_000, `now() - interval '1 day'`);
    const run = stoppable.run({ trigger: 'schedule' });
    await waitFor(() => stoppable.status().batches >= 1, 30_000, 'the first batch');
    await stoppable.stop();
    const summary = await run;
    expect(summary.count).toBeGreaterThan(0);
    expect(summary.count).toBeLessThan(30_000);
    expect(await count(env.db)).toBe(30_000 - summary.count);
    expect((await purgeEvents(env.db)).at(-1)!.data).toMatchObject({ count: summary.count, capped: false });
    await expect(stoppable.run({ trigger: 'manual', context: manual })).rejects.toThrow('shutting down');
  });

  it('a batch that cannot get its lock in time fails fast, and what was deleted before is recorded', async () => {
    await seed(env.db, 'expired', 12_000, `now() - interval '1 day'`);
    // A long pause, so that the table is locked well before the second batch.
    const slow = new ExpiredTokenPurge(new PostgresExpiredTokenStore(env.db), env.store, { ...SETTINGS, pauseMs: 1_500 });
    const locker = await Database.open({ url: env.url, migrations: MIGRATIONS, entities: ENTITIES, poolSize: 2 });
    try {
      const run = slow.run({ trigger: 'schedule' });
      await waitFor(() => slow.status().batches >= 1, 30_000, 'the first batch');
      // DDL-strength lock on the table, held past the next batch's lock_timeout.
      const held = locker.transaction(async (manager) => {
        await manager.query('LOCK TABLE refreshtokendetails IN ACCESS EXCLUSIVE MODE');
        await new Promise((r) => setTimeout(r, 3_000));
      });
      await expect(run).rejects.toThrow('the purge stopped after 5000 rows');
      await held;
    } finally {
      await locker.close();
    }
    expect(await count(env.db)).toBe(7_000);
    expect((await purgeEvents(env.db)).at(-1)!.data).toMatchObject({ count: 5_000, batches: 1 });
    expect(slow.status().totals.failures).toBe(1);
  });
});

describe('purge in embedded mode (PGlite)', () => {
  it('runs the same SQL and lock on the single embedded session', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'authz-purge-'));
    const db = await Database.open({ dataDir: dir, migrations: MIGRATIONS, entities: ENTITIES });
    try {
      const purge = new ExpiredTokenPurge(new PostgresExpiredTokenStore(db), new PostgresEventStore(db, 'embedded'), { ...SETTINGS, batchSize: 1_000 });
      await seed(db, 'expired', 2_500, `now() - interval '1 day'`);
      await seed(db, 'live', 100, `now() + interval '1 day'`);
      const [first, second] = await Promise.allSettled([purge.run({ trigger: 'manual', context: manual }), purge.run({ trigger: 'manual', context: manual })]);
      expect(first).toMatchObject({ status: 'fulfilled', value: { count: 2_500, batches: 3, largestBatch: 1_000, capped: false } });
      expect(second).toMatchObject({ status: 'rejected', reason: expect.any(PurgeRunningError) });
      expect(await count(db)).toBe(100);
      expect(await purgeEvents(db)).toHaveLength(1);
      // The lock is released: the next run gets it.
      expect((await purge.run({ trigger: 'manual', context: manual })).count).toBe(0);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
