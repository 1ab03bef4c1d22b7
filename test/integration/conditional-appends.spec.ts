import pg from 'pg';
import { ConcurrencyError } from '@authz/application';
import { context, event, realStore } from '../support/runtime';

/**
 * Appends conditioned on streams they read but do not write (a refresh on its grant and its
 * user's revocations), against decisive appends to those streams (a revocation), on the real
 * PostgreSQL: conditioned appends never conflict with each other, and none commits on a
 * decision that a decisive append committed before it made stale — even one in flight when
 * the conditioned append's statement began.
 */
describe('conditional appends (real PostgreSQL)', () => {
  let env: Awaited<ReturnType<typeof realStore>>;
  beforeAll(async () => {
    env = await realStore('node-a');
  });
  afterAll(async () => env?.close());

  const conditioned = (id: string, on: string, version: number) =>
    env.store.appendAll([{ streamId: `grant-${id}`, expectedVersion: 0, events: [event(1)] }], context, [{ streamId: on, version }]);

  it('commits appends conditioned on one stream side by side, and refuses one whose condition moved', async () => {
    await env.store.append('revocation-ann', 0, [event(1)], context);
    const side = await Promise.all(Array.from({ length: 30 }, (_, i) => conditioned(`side-${i}`, 'revocation-ann', 1)));
    expect(side.every(([events]) => events.length === 1)).toBe(true);
    await expect(conditioned('stale', 'revocation-ann', 0)).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await env.store.readStream('grant-stale')).toEqual([]);
    await expect(
      env.store.appendAll([{ streamId: 'revocation-ann', expectedVersion: 1, events: [event(2)] }], context, [{ streamId: 'revocation-ann', version: 1 }]),
    ).rejects.toThrow(TypeError);
  });

  it('waits for a decisive append in flight on its condition stream, then sees it and refuses', async () => {
    // A revocation's transaction, as the store runs it, held open: lock taken, event inserted, not committed.
    const revoker = new pg.Client({ connectionString: env.url });
    await revoker.connect();
    try {
      await revoker.query('BEGIN');
      await revoker.query(`SELECT pg_advisory_xact_lock(${0x53544d31}, hashtext('revocation-bea'))`);
      await revoker.query(
        `INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, occurred_at, node_id, correlation_id, actor, data)
         VALUES (gen_random_uuid(), 'revocation-bea', 1, 'TestHappened', 1, now(), 'node-b', 'c', 'user:test', '{}')`,
      );
      let settled = false;
      const refresh = conditioned('racing', 'revocation-bea', 0).finally(() => (settled = true));
      await new Promise((r) => setTimeout(r, 300));
      // Without the lock it would have committed on its snapshot, which cannot see the revocation.
      expect(settled).toBe(false);
      await revoker.query('COMMIT');
      await expect(refresh).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await env.store.readStream('grant-racing')).toEqual([]);
    } finally {
      await revoker.end();
    }
  });

  it('makes a decisive append wait for conditioned appends in flight: they commit first, at lower positions', async () => {
    const appends = Array.from({ length: 20 }, (_, i) => conditioned(`first-${i}`, 'revocation-cid', 0));
    const decisive = env.store.appendAll([{ streamId: 'revocation-cid', expectedVersion: 0, events: [event(1)], decisive: true }], context);
    const results = await Promise.allSettled([...appends, decisive]);
    const [revocation] = (await decisive)[0];
    for (const result of results.slice(0, 20)) {
      if (result.status === 'fulfilled') expect(result.value[0][0].position).toBeLessThan(revocation.position);
      else expect(result.reason).toBeInstanceOf(ConcurrencyError);
    }
  });
});
