import { ConcurrencyError } from '@authz/application';
import { context, event, realStore } from '../support/runtime';

describe('PostgresEventStore (real PostgreSQL)', () => {
  let env: Awaited<ReturnType<typeof realStore>>;
  beforeAll(async () => {
    env = await realStore('node-a');
  });
  afterAll(async () => env?.close());

  it('appends with the full envelope and reads the stream back in order', async () => {
    const appended = await env.store.append('user-alice', 0, [event(1), event(2)], context);
    expect(appended.map((e) => e.streamVersion)).toEqual([1, 2]);
    expect(appended[1].position).toBeGreaterThan(appended[0].position);
    const [first] = appended;
    expect(first).toEqual({
      eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: 'TestHappened',
      schemaVersion: 1,
      streamId: 'user-alice',
      streamVersion: 1,
      position: expect.any(Number),
      occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      nodeId: 'node-a',
      correlationId: 'corr-1',
      actor: 'user:test',
      data: { n: 1 },
    });
    expect(await env.store.readStream('user-alice')).toEqual(appended);
    expect(await env.store.readStream('user-nobody')).toEqual([]);
  });

  it('refuses an append at a stale expected version with the typed error, appending nothing', async () => {
    await env.store.append('user-bob', 0, [event(1)], context);
    await expect(env.store.append('user-bob', 0, [event(2)], context)).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(env.store.append('user-bob', 5, [event(2)], context)).rejects.toMatchObject({ code: 'CONCURRENCY_CONFLICT' });
    expect(await env.store.readStream('user-bob')).toHaveLength(1);
  });

  it('lets exactly one of many concurrent appends at the same expected version win', async () => {
    await env.store.append('user-race', 0, [event(0)], context);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => env.store.append('user-race', 1, [event(i + 1)], context)),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(9);
    for (const loss of lost) expect(loss.reason).toBeInstanceOf(ConcurrencyError);
    expect((await env.store.readStream('user-race')).map((e) => e.streamVersion)).toEqual([1, 2]);
  });

  it('reads all streams by global position, from any position', async () => {
    const all = await env.store.readAll(0, 1000);
    expect(all.map((e) => e.position)).toEqual([...all.map((e) => e.position)].sort((a, b) => a - b));
    const tail = await env.store.readAll(all[1].position, 2);
    expect(tail.map((e) => e.position)).toEqual([all[2].position, all[3].position]);
  });

  it('appends inside a unit of work: a rollback leaves neither the event nor its outbox row', async () => {
    const before = await env.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox');
    await expect(
      env.db.run(async (tx) => {
        await env.store.append('user-rolled-back', 0, [event(1)], context, tx);
        throw new Error('later step failed');
      }),
    ).rejects.toThrow('later step failed');
    expect(await env.store.readStream('user-rolled-back')).toEqual([]);
    expect(await env.db.query('SELECT count(*)::int AS n FROM outbox')).toEqual(before);
  });

  it('queues every appended event in the outbox in the same transaction', async () => {
    const appended = await env.store.append('user-outbox', 0, [event(1), event(2)], context);
    const rows = await env.db.query<{ position: string }>('SELECT position FROM outbox WHERE position = ANY($1::bigint[])', [
      appended.map((e) => e.position),
    ]);
    expect(rows).toHaveLength(2);
  });
});
