import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database, DatabaseTimeoutError, PostgresEventStore, managerOf } from '@authz/event-store';
import { ENTITIES, MIGRATIONS } from '@authz/runtime';

const context = { actor: 'user:admin', correlationId: 'embedded-db-test' };
const event = (n: number) => ({ type: 'TestHappened', schemaVersion: 1, data: { n } });

/**
 * Embedded mode has one database session (PGlite). A call made from inside a transaction must
 * run in it (it used to queue behind the transaction that waited for it: the node hung for
 * good), and nothing may wait for the session without a limit.
 */
describe('the embedded database session', () => {
  let dir: string;
  let db: Database;
  let store: PostgresEventStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'authz-embedded-db-'));
    db = await Database.open({ dataDir: dir, migrations: MIGRATIONS, entities: ENTITIES, timeoutMs: 1_000 });
    store = new PostgresEventStore(db, 'embedded');
  });

  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a read made inside a transaction without its transaction in that transaction, seeing its own writes', async () => {
    const seen = await db.run(async (tx) => {
      await store.append('test-inside', 0, [event(1)], context, tx);
      // Neither call is given the transaction: both used to wait for it for ever.
      const stream = await store.readStream('test-inside');
      const [{ n }] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE stream_id = 'test-inside'`);
      return { stream: stream.map((e) => e.streamVersion), n };
    });
    expect(seen).toEqual({ stream: [1], n: 1 });
  });

  it('runs a batched hot-path read made inside a transaction in it, and one made outside after it', async () => {
    const inside = await db.run(async (tx) => {
      await store.append('test-batched', 0, [event(1)], context, tx);
      return store.hasEvent(['test-batched'], ['TestHappened']);
    });
    expect(inside).toBe(true);
    expect(await store.hasEvent(['test-batched'], ['TestHappened'])).toBe(true);
  });

  it('keeps a transaction that rolls back invisible to calls made after it', async () => {
    await expect(
      db.run(async (tx) => {
        await store.append('test-rolled-back', 0, [event(1)], context, tx);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await store.readStream('test-rolled-back')).toEqual([]);
  });

  it('refuses a transaction opened inside another at once, instead of waiting for it', async () => {
    const started = Date.now();
    await expect(db.run(() => db.run(async () => 1))).rejects.toThrow(/cannot be opened inside another/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('rolls back a transaction that holds the session past the limit, fails the calls that waited too long, and serves again', async () => {
    let release!: () => void;
    const never = new Promise<void>((r) => (release = r));
    const holder = db.run(async (tx) => {
      await store.append('test-held', 0, [event(1)], context, tx);
      await never;
    });
    // Queued behind the holder: it cannot get the session within the limit.
    const waiter = db.query('SELECT 1');
    await expect(waiter).rejects.toBeInstanceOf(DatabaseTimeoutError);
    await expect(holder).rejects.toBeInstanceOf(DatabaseTimeoutError);
    release();
    expect(await store.readStream('test-held')).toEqual([]);
    expect(await db.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect(db.stalled()).toBeUndefined();
  });

  it('answers a readiness ping within its own limit, false while the session is held', async () => {
    let release!: () => void;
    const held = db.transaction(() => new Promise<void>((r) => (release = r)));
    const started = Date.now();
    expect(await db.ping(200)).toBe(false);
    expect(Date.now() - started).toBeLessThan(900);
    release();
    await held;
    expect(await db.ping(200)).toBe(true);
  });

  it('gives an explicit transaction to the adapters that take one', async () => {
    const rows = await db.run((tx) => managerOf(tx).query('SELECT 2 AS two'));
    expect(rows).toEqual([{ two: 2 }]);
  });
});
