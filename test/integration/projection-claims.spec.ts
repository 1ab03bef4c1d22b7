import type { EntityManager } from 'typeorm';
import type { EventEnvelope } from '@authz/contracts';
import { InProcessTransport } from '@authz/messaging';
import { ProjectionRunner, type Projection } from '@authz/read-models';
import { context, event, realStore } from '../support/runtime';

/** One row per application, without a key: an event applied twice shows as two rows. */
class Counter implements Projection {
  readonly name = 'counter';
  readonly categories = ['user'] as const;
  async apply(manager: EntityManager, e: EventEnvelope): Promise<void> {
    await manager.query('INSERT INTO counted (position, stream_id, version) VALUES ($1, $2, $3)', [e.position, e.streamId, e.streamVersion]);
  }
  async clear(manager: EntityManager): Promise<void> {
    await manager.query('DELETE FROM counted');
  }
}

describe('ProjectionRunner claims of live batches (real PostgreSQL)', () => {
  let env: Awaited<ReturnType<typeof realStore>>;
  let runner: ProjectionRunner;
  const projection = new Counter();
  const counted = async (stream: string) =>
    (await env.db.query<{ version: number }>('SELECT version FROM counted WHERE stream_id = $1 ORDER BY version', [stream])).map((r) => r.version);
  const append = async (stream: string, versions: number) => {
    for (let v = 1; v <= versions; v++) await env.store.append(stream, v - 1, [event(v)], context);
    return env.store.readStream(stream);
  };

  beforeAll(async () => {
    env = await realStore('node-claims');
    await env.db.query('CREATE TABLE counted (position bigint NOT NULL, stream_id text NOT NULL, version int NOT NULL)');
    runner = new ProjectionRunner(env.db, env.store, new InProcessTransport(), [projection], 'it');
  });
  afterAll(async () => env?.close());

  it('applies, of a batch that overlaps what was applied, only the newer events of each stream', async () => {
    const a = await append('user-a', 5);
    const b = await append('user-b', 2);
    expect(await runner.handleBatch(projection, [a[0], b[0], a[1], a[2]])).toBe(4);
    // Redelivered from an earlier offset, with newer events of both streams behind.
    expect(await runner.handleBatch(projection, [a[1], a[2], b[0], a[3], b[1], a[4]])).toBe(3);
    expect(await runner.handleBatch(projection, [...a, ...b])).toBe(0);
    expect(await counted('user-a')).toEqual([1, 2, 3, 4, 5]);
    expect(await counted('user-b')).toEqual([1, 2]);
  });

  it('applies a batch once when several deliveries of it run at once (a rebalance), retrying the ones that lose a race', async () => {
    const streams = await Promise.all(['user-r1', 'user-r2', 'user-r3', 'user-r4'].map((s) => append(s, 3)));
    const batch = streams.flat();
    const deliver = async (): Promise<number> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await runner.handleBatch(projection, batch);
        } catch (error) {
          // What the Kafka transport does with a failed batch: deliver it again.
          if (attempt > 20) throw error;
        }
      }
    };
    // A delivery of other events first, so that the copies arrive while it is applied and are merged.
    const other = await append('user-other', 1);
    const first = runner.handleBatch(projection, other);
    const applied = await Promise.all(Array.from({ length: 8 }, deliver));
    expect(await first).toBe(1);
    expect(applied.reduce((a, b) => a + b, 0)).toBe(batch.length);
    for (const stream of ['user-r1', 'user-r2', 'user-r3', 'user-r4']) expect(await counted(stream)).toEqual([1, 2, 3]);
  });
});
