import { jest } from '@jest/globals';
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

  it('plans the hot path statements once, by their indexes even while the tables are a few pages', async () => {
    for (let n = 1; n <= 20; n++) await env.store.append(`grant-plan-${n}`, 0, [event(n, 'TokenIssued')], context);
    await env.db.withSession(async (session) => {
      expect(await session.query("SELECT current_setting('plan_cache_mode') AS plans, current_setting('enable_seqscan') AS seqscan")).toEqual([
        { plans: 'force_generic_plan', seqscan: 'off' },
      ]);
      await session.prepared('test_by_position', 'SELECT stream_id FROM events WHERE position = ANY($1::bigint[])', [[1, 2]]);
      await session.prepared('test_by_stream', 'SELECT position FROM events WHERE stream_id = ANY($1::text[]) AND type = $2', [['grant-plan-1'], 'TokenIssued']);
      const plan = async (statement: string) => (await session.query<Record<string, string>>(`EXPLAIN EXECUTE ${statement}`)).map((row) => row['QUERY PLAN']).join('\n');
      const byPosition = await plan(`test_by_position('{1,2}')`);
      const byStream = await plan(`test_by_stream('{grant-plan-1}', 'TokenIssued')`);
      expect(byPosition).toContain('events_pkey');
      expect(byStream).toContain('events_stream_version_unique');
      expect(`${byPosition}\n${byStream}`).not.toContain('Seq Scan');
    });
  });
});

describe('PostgresEventStore group commit (real PostgreSQL)', () => {
  let env: Awaited<ReturnType<typeof realStore>>;
  beforeAll(async () => {
    env = await realStore('node-gc');
  });
  afterAll(async () => env?.close());

  /** How many transactions wrote these streams' events: xmin is the id of the inserting transaction. */
  const transactions = async (prefix: string) =>
    (await env.db.query<{ n: number }>(`SELECT count(DISTINCT xmin::text)::int AS n FROM events WHERE stream_id LIKE $1`, [`${prefix}%`]))[0].n;

  it('writes concurrent single-event appends of many streams in a few transactions, each with its outbox row', async () => {
    const appended = await Promise.all(Array.from({ length: 200 }, (_, i) => env.store.append(`user-gc${i}`, 0, [event(i)], context)));
    expect(appended.map(([e]) => [e.streamId, e.streamVersion, e.data])).toEqual(Array.from({ length: 200 }, (_, i) => [`user-gc${i}`, 1, { n: i }]));
    // Within a transaction, positions follow the order the appends were made in.
    const positions = appended.map(([e]) => e.position);
    const rows = await env.db.query<{ stream_id: string; position: string; tx: string }>(`SELECT stream_id, position, xmin::text AS tx FROM events WHERE stream_id LIKE 'user-gc%'`);
    for (const tx of new Set(rows.map((r) => r.tx))) {
      const inTx = rows.filter((r) => r.tx === tx).sort((a, b) => Number(a.stream_id.slice(7)) - Number(b.stream_id.slice(7)));
      expect(inTx.map((r) => Number(r.position))).toEqual(inTx.map((r) => Number(r.position)).sort((a, b) => a - b));
    }
    expect(await transactions('user-gc')).toBeLessThanOrEqual(10);
    const queued = await env.db.query('SELECT 1 FROM outbox WHERE position = ANY($1::bigint[])', [positions]);
    expect(queued).toHaveLength(200);
  });

  it('hands each concurrent append exactly the events a reader of the store then reads, data as stored JSON', async () => {
    const at = new Date('2026-12-01T10:00:00.000Z');
    const data = (i: number) => ({ i, at, missing: undefined, nested: { list: [i, 'x'] } });
    const appended = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        i % 2 === 0
          ? env.store.append(`user-echo${i}`, 0, [{ type: 'TestHappened', schemaVersion: 1, data: data(i) }, event(-i)], context)
          : env.store
              .appendAll(
                [
                  { streamId: `user-echo${i}`, expectedVersion: 0, events: [{ type: 'TestHappened', schemaVersion: 1, data: data(i) }] },
                  { streamId: `user-echo${i}b`, expectedVersion: 0, events: [event(i)] },
                ],
                context,
              )
              .then((sets) => sets.flat()),
      ),
    );
    for (const [i, events] of appended.entries()) {
      const streams = [...new Set(events.map((e) => e.streamId))];
      const read = (await Promise.all(streams.map((s) => env.store.readStream(s)))).flat();
      expect(events).toEqual(read);
      expect(events[0].data).toStrictEqual({ i, at: at.toISOString(), nested: { list: [i, 'x'] } });
    }
  });

  it('fails only the stale appends of a batch; the others commit with them', async () => {
    for (let i = 0; i < 20; i++) await env.store.append(`user-mixed${i}`, 0, [event(0)], context);
    // Even streams at their version, odd ones at a stale one, all at once.
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => env.store.append(`user-mixed${i}`, i % 2 === 0 ? 1 : 0, [event(i)], context)));
    results.forEach((result, i) => {
      if (i % 2 === 0) expect(result.status).toBe('fulfilled');
      else expect((result as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
    });
    const versions = await env.db.query<{ stream_id: string; v: number }>(
      `SELECT stream_id, max(stream_version) AS v FROM events WHERE stream_id LIKE 'user-mixed%' GROUP BY stream_id`,
    );
    for (const { stream_id, v } of versions) expect(v).toBe(Number(stream_id.slice('user-mixed'.length)) % 2 === 0 ? 2 : 1);
  });

  /**
   * Another writer holds version 1 of `stream`, not yet committed, while `appends` are written;
   * it commits 200 ms later. Answers how the appends settled.
   */
  const racedBy = async <T>(stream: string, appends: () => Promise<T>[]): Promise<PromiseSettledResult<T>[]> =>
    env.db.withConnection(async (other) => {
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, occurred_at, node_id, correlation_id, actor, data)
         VALUES (gen_random_uuid(), $1, 1, 'TestHappened', 1, now(), 'other', 'c', 'a', '{}')`,
        [stream],
      );
      const racing = Promise.allSettled(appends());
      // The batch waits on the other writer's row; once it commits, the batch's row for that version yields.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await other.query('COMMIT');
      return racing;
    });

  it('fails an append whose version another transaction took meanwhile, and only that one', async () => {
    const [taken, ...free] = await racedBy('user-taken', () => ['user-taken', 'user-free1', 'user-free2'].map((stream) => env.store.append(stream, 0, [event(1)], context)));
    expect((taken as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
    for (const result of free) expect(result.status).toBe('fulfilled');
    expect((await env.store.readStream('user-taken')).map((e) => e.nodeId)).toEqual(['other']);
  });

  it('appends to several streams together, or to none when one of them is stale', async () => {
    await env.store.append('user-set-a', 0, [event(1)], context);
    const [a, b] = await env.store.appendAll(
      [
        { streamId: 'user-set-a', expectedVersion: 1, events: [event(2), event(3)] },
        { streamId: 'user-set-b', expectedVersion: 0, events: [event(1)] },
      ],
      context,
    );
    expect(a.map((e) => e.streamVersion)).toEqual([2, 3]);
    expect(b.map((e) => e.streamVersion)).toEqual([1]);
    // One transaction for both streams.
    const xmins = await env.db.query(`SELECT DISTINCT xmin::text FROM events WHERE (stream_id = 'user-set-a' AND stream_version > 1) OR stream_id = 'user-set-b'`);
    expect(xmins).toHaveLength(1);
    await expect(
      env.store.appendAll(
        [
          { streamId: 'user-set-c', expectedVersion: 0, events: [event(1)] },
          { streamId: 'user-set-a', expectedVersion: 1, events: [event(9)] },
        ],
        context,
      ),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await env.store.readStream('user-set-c')).toEqual([]);
    expect(await env.store.readStream('user-set-a')).toHaveLength(3);
    await expect(env.store.appendAll([{ streamId: 'user-x', expectedVersion: 0, events: [event(1)] }, { streamId: 'user-x', expectedVersion: 0, events: [event(2)] }], context)).rejects.toThrow(
      'a stream may be named once',
    );
  });

  it('batches concurrent sets of many requests, and fails whole only the set that a concurrent writer raced', async () => {
    const results = await racedBy('user-raced', () =>
      Array.from({ length: 30 }, (_, i) =>
        env.store.appendAll(
          [
            { streamId: i === 7 ? 'user-raced' : `user-pair${i}-a`, expectedVersion: 0, events: [event(i)] },
            { streamId: `user-pair${i}-b`, expectedVersion: 0, events: [event(i), event(i)] },
          ],
          context,
        ),
      ),
    );
    results.forEach((result, i) => {
      if (i === 7) expect((result as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
      else expect(result.status).toBe('fulfilled');
    });
    expect(await env.store.readStream('user-pair7-b')).toEqual([]);
    expect((await env.store.readStream('user-raced')).map((e) => e.nodeId)).toEqual(['other']);
    expect(await env.store.readStream('user-pair8-b')).toHaveLength(2);
  });

  it('answers concurrent hasEvent checks as each alone, in fewer queries', async () => {
    await env.store.append('user-has-a', 0, [event(1, 'Revoked')], context);
    await env.store.append('user-has-b', 0, [event(1, 'Other')], context);
    const checks: [string[], string[]][] = [
      [['user-has-a'], ['Revoked']],
      [['user-has-b'], ['Revoked']],
      [['user-has-b', 'user-has-a'], ['Revoked', 'Missing']],
      [['user-has-b'], ['Other']],
      [['user-nothing'], ['Revoked', 'Other']],
    ];
    const alone = [];
    for (const [streams, types] of checks) alone.push(await env.store.hasEvent(streams, types));
    expect(alone).toEqual([true, false, true, true, false]);
    const queries = jest.spyOn(env.db, 'prepared');
    try {
      expect(await Promise.all(checks.map(([streams, types]) => env.store.hasEvent(streams, types)))).toEqual(alone);
      // The first two find a free slot each (two batches in flight at most); the other three share one query.
      expect(queries.mock.calls.length).toBeLessThanOrEqual(3);
    } finally {
      queries.mockRestore();
    }
  });
});

