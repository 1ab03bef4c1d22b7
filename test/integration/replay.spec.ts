import type { EntityManager } from 'typeorm';
import type { EventEnvelope } from '@authz/contracts';
import { KafkaTransport } from '@authz/messaging';
import { HistoryFeed, ProjectionRunner, StoreFeed, type Projection, type ReplayFeed } from '@authz/read-models';
import { KAFKA_BROKERS, uniqueName } from '../support/infra';
import { context, event, realStore } from '../support/runtime';

/** One row per event it applies, so that a double application shows. */
class Recorder implements Projection {
  readonly name = 'recorder';
  readonly categories = ['user'] as const;
  async apply(manager: EntityManager, e: EventEnvelope): Promise<void> {
    await manager.query('INSERT INTO recorded (position, stream_id, version) VALUES ($1, $2, $3)', [e.position, e.streamId, e.streamVersion]);
  }
  async clear(manager: EntityManager): Promise<void> {
    await manager.query('DELETE FROM recorded');
  }
}

/** The store, but each read waits for `release`: a replay that lasts as long as a test wants. */
class HeldFeed implements ReplayFeed {
  readonly source = 'store' as const;
  release!: () => void;
  private readonly held = new Promise<void>((resolve) => (this.release = resolve));
  constructor(private readonly inner: StoreFeed) {}
  async read(...args: Parameters<ReplayFeed['read']>): Promise<void> {
    await this.held;
    return this.inner.read(...args);
  }
}

describe('ProjectionRunner.replay (real PostgreSQL and Kafka)', () => {
  let env: Awaited<ReturnType<typeof realStore>>;
  let transport: KafkaTransport;
  let runner: ProjectionRunner;
  const projection = new Recorder();
  const recorded = async () => (await env.db.query<{ position: string }>('SELECT position FROM recorded ORDER BY position')).map((r) => Number(r.position));

  beforeAll(async () => {
    env = await realStore('node-a');
    await env.db.query('CREATE TABLE recorded (position bigint PRIMARY KEY, stream_id text NOT NULL, version int NOT NULL)');
    transport = new KafkaTransport({ brokers: KAFKA_BROKERS.split(','), clientId: 'it-replay', topicPrefix: uniqueName('it_replay'), partitions: 3, replicationFactor: 1 });
    await transport.ensureTopics();
    runner = new ProjectionRunner(env.db, env.store, transport, [projection], 'it');
    for (let version = 1; version <= 3; version++) {
      for (const user of ['u1', 'u2', 'u3', 'u4']) await env.store.append(`user-${user}`, version - 1, [event(version)], context);
    }
    // Another category: read by nobody here, skipped by the store's query.
    await env.store.append('client-c1', 0, [event(1)], context);
  });

  afterAll(async () => {
    await transport?.close();
    await env?.close();
  });

  it('from 0 rebuilds from the first event; progress ends at the store\'s last position', async () => {
    const progress: { processed: number; total: number }[] = [];
    const result = await runner.replay([projection], { from: 0, progress: (p) => progress.push(p) });
    expect(result).toEqual({ applied: { recorder: 12 }, processed: 13 });
    expect(progress.at(-1)).toEqual({ processed: 13, total: 13 });
    expect(await recorded()).toHaveLength(12);
    const [checkpoint] = await env.db.query<{ position: string }>(`SELECT position FROM projection_checkpoints WHERE projection = 'recorder'`);
    expect(Number(checkpoint.position)).toBe(12);
  });

  it('from N applies, after N, only what the model has not applied: the tail of a stream it lost', async () => {
    const before = await recorded();
    // u2 lost its last event: the row and the stream version, as if it had never been delivered.
    const lost = before.at(-3)!;
    await env.db.query('DELETE FROM recorded WHERE position = $1', [lost]);
    await env.db.query(`UPDATE projection_stream_versions SET version = 2 WHERE projection = 'recorder' AND stream_id = 'user-u2'`);
    const result = await runner.replay([projection], { from: 8 });
    expect(result.applied).toEqual({ recorder: 1 });
    expect(result.processed).toBe(5);
    expect(await recorded()).toEqual(before);
    // Nothing missing: nothing applied, nothing cleared.
    expect((await runner.replay([projection], { from: 1 })).applied).toEqual({ recorder: 0 });
    expect(await recorded()).toEqual(before);
  });

  it('from Kafka: every message up to the ends, a message published twice applied once', async () => {
    const events = await env.store.readAll(0, 100);
    await transport.publish(events);
    await transport.publish(events.filter((e) => e.streamId === 'user-u3'));
    const progress: { processed: number; total: number }[] = [];
    const result = await runner.replay([projection], { from: 0, feed: new HistoryFeed(transport), progress: (p) => progress.push(p) });
    expect(result).toEqual({ applied: { recorder: 12 }, processed: 15 });
    expect(progress.at(-1)).toEqual({ processed: 15, total: 15 });
    expect(await recorded()).toEqual(events.filter((e) => e.streamId.startsWith('user-')).map((e) => e.position));
  });

  it('a live batch waits for a replay of its projection, then skips what the replay applied; readers see the old model meanwhile', async () => {
    const before = await recorded();
    const feed = new HeldFeed(new StoreFeed(env.store));
    const replaying = runner.replay([projection], { from: 0, feed });
    await new Promise((r) => setTimeout(r, 500));
    const [appended] = await env.store.append('user-u5', 0, [event(1)], context);
    let liveDone = false;
    const live = runner.handleBatch(projection, [appended]).then((n) => ((liveDone = true), n));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(liveDone).toBe(false);
    // The replay has emptied the model in its transaction: others still see it whole.
    expect(await recorded()).toEqual(before);
    feed.release();
    expect((await replaying).applied).toEqual({ recorder: 13 });
    expect(await live).toBe(0);
    expect(await recorded()).toEqual([...before, appended.position]);
  });

  it('a live batch that waits too long fails, for its transport to retry it', async () => {
    const feed = new HeldFeed(new StoreFeed(env.store));
    const replaying = runner.replay([projection], { from: 0, feed });
    await new Promise((r) => setTimeout(r, 500));
    const [appended] = await env.store.append('user-u6', 0, [event(1)], context);
    await expect(runner.handleBatch(projection, [appended])).rejects.toThrow('projection recorder is being replayed; its live events wait');
    feed.release();
    await replaying;
    expect(await runner.handleBatch(projection, [appended])).toBe(0);
    expect(await recorded()).toContain(appended.position);
  });
});
