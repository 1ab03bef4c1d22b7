import type { EntityManager } from 'typeorm';
import type { EventEnvelope } from '@authz/contracts';
import { InProcessTransport } from '@authz/messaging';
import { ProjectionError, ProjectionRunner, lockKey, projectionLag, type Projection } from '@authz/read-models';
import { context, event, realStore } from '../support/runtime';

/** Records the events it applies; fails on the ones the test names. */
class ClientLog implements Projection {
  readonly name = 'client-log';
  readonly categories = ['client'] as const;
  failOn?: string;
  async apply(_manager: EntityManager, e: EventEnvelope): Promise<void> {
    if (e.eventId === this.failOn) throw new Error('cannot apply');
  }
  async clear(): Promise<void> {}
}

describe('observability hooks of the event store and the projections (real PostgreSQL)', () => {
  let env: Awaited<ReturnType<typeof realStore>>;
  beforeAll(async () => {
    env = await realStore('node-o');
  });
  afterAll(async () => env?.close());

  it('tells appended listeners of committed events only: at once outside a unit of work, at its commit inside one', async () => {
    const told: string[][] = [];
    env.store.onAppended((events) => told.push(events.map((e) => e.streamId)));
    await env.store.append('user-a', 0, [event(1)], context);
    expect(told).toEqual([['user-a']]);

    await env.db.run(async (tx) => {
      await env.store.append('user-b', 0, [event(1), event(2)], context, tx);
      await env.store.append('user-c', 0, [event(1)], context, tx);
      expect(told).toHaveLength(1);
    });
    expect(told).toEqual([['user-a'], ['user-b', 'user-b'], ['user-c']]);

    await expect(
      env.db.run(async (tx) => {
        await env.store.append('user-d', 0, [event(1)], context, tx);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await expect(env.store.append('user-a', 0, [event(2)], context)).rejects.toMatchObject({ code: 'CONCURRENCY_CONFLICT' });
    expect(told).toHaveLength(3);
  });

  it('an appended listener that throws does not fail the append', async () => {
    env.store.onAppended(() => {
      throw new Error('listener bug');
    });
    await expect(env.store.append('user-e', 0, [event(1)], context)).resolves.toHaveLength(1);
  });

  it("measures a projection's lag from its checkpoint: events of its categories after it, and the age of the oldest", async () => {
    const projection = new ClientLog();
    const runner = new ProjectionRunner(env.db, env.store, new InProcessTransport(), [projection], 'it');
    expect(await projectionLag(env.db, [projection])).toEqual([{ projection: 'client-log', events: 0, seconds: 0 }]);

    const [first] = await env.store.append('client-x', 0, [event(1), event(2)], context);
    await env.store.append('user-f', 0, [event(1), event(2), event(3)], context);
    // An event of its category written two minutes ago (as by a node whose projector is down).
    await env.db.query(`UPDATE events SET occurred_at = now() - interval '120 seconds' WHERE event_id = $1`, [first.eventId]);
    const [lag] = await projectionLag(env.db, [projection]);
    expect(lag.events).toBe(2);
    expect(lag.seconds).toBeGreaterThanOrEqual(120);
    expect(lag.seconds).toBeLessThan(180);

    await runner.handleBatch(projection, await env.store.readStream('client-x'));
    expect(await projectionLag(env.db, [projection])).toEqual([{ projection: 'client-log', events: 0, seconds: 0 }]);
  });

  it('marks the projections as replaying while the replay lock of one of them is held (by any session): they share their deliveries', async () => {
    const projection = new ClientLog();
    const other: Projection = { name: 'other-log', categories: ['client'], apply: async () => undefined, clear: async () => undefined };
    const replayer = await env.db.dataSource.createQueryRunner();
    await replayer.connect();
    try {
      await replayer.query('SELECT pg_advisory_lock($1)', [lockKey('client-log')]);
      const lags = await projectionLag(env.db, [projection, other]);
      expect(lags.map((l) => [l.projection, l.replaying ?? false])).toEqual([['client-log', true], ['other-log', true]]);
      expect((await projectionLag(env.db, [other]))[0].replaying).toBeUndefined();
      await replayer.query('SELECT pg_advisory_unlock($1)', [lockKey('client-log')]);
      expect((await projectionLag(env.db, [projection, other])).map((l) => l.replaying)).toEqual([undefined, undefined]);
    } finally {
      await replayer.release();
    }
  });

  it('names the event, and the request behind it, when a projection fails on it', async () => {
    const projection = new ClientLog();
    const runner = new ProjectionRunner(env.db, env.store, new InProcessTransport(), [projection], 'it');
    const [bad] = await env.store.append('client-y', 0, [event(1)], { actor: 'user:test', correlationId: 'req-failing' });
    projection.failOn = bad.eventId;
    const failure = await runner.handleBatch(projection, [bad]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ProjectionError);
    expect((failure as ProjectionError).logFields).toEqual({
      projection: 'client-log',
      eventId: bad.eventId,
      eventType: 'TestHappened',
      position: bad.position,
      correlationId: 'req-failing',
    });
    expect((failure as Error).message).toContain(bad.eventId);
    expect((failure as Error).message).toContain('cannot apply');
  });
});
