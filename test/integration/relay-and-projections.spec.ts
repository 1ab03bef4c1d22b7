import { ChangeParametersCommand, ChangeParametersHandler } from '@authz/application';
import { OutboxRelay } from '@authz/event-store';
import { KafkaTransport } from '@authz/messaging';
import { ParametersProjection, PostgresParametersReadModel, ProjectionRunner, type Projection } from '@authz/read-models';
import type { EventEnvelope } from '@authz/contracts';
import { Kafka } from 'kafkajs';
import { KAFKA_BROKERS, kafka, uniqueName, waitFor } from '../support/infra';
import { probe } from '../support/kafka-probe';
import { context, event, realStore } from '../support/runtime';


describe('outbox relay → Kafka → projections (real PostgreSQL and Kafka)', () => {
  let env: Awaited<ReturnType<typeof realStore>>;
  let transport: KafkaTransport;
  let relay: OutboxRelay;
  let listener: Awaited<ReturnType<typeof probe>>;
  const prefix = uniqueName('it');

  beforeAll(async () => {
    env = await realStore('node-a');
    transport = new KafkaTransport({ brokers: KAFKA_BROKERS.split(','), clientId: 'it', topicPrefix: prefix, partitions: 3, replicationFactor: 1 });
    await transport.ensureTopics();
    listener = await probe([transport.topic('user'), transport.topic('parameters')]);
    relay = new OutboxRelay(env.db, transport, { pollMs: 100, standbyMs: 200 });
    relay.start();
  });

  afterAll(async () => {
    await relay?.stop();
    await listener?.close();
    await transport?.close();
    await env?.close();
  });

  const receivedFor = (stream: string) => listener.received.filter((r) => r.event.streamId === stream);

  it('publishes every event keyed by stream, in stream order, with type, schema version and id in headers', async () => {
    for (let i = 1; i <= 5; i++) {
      for (const user of ['u1', 'u2', 'u3']) await env.store.append(`user-${user}`, i - 1, [event(i)], context);
    }
    await waitFor(() => listener.received.length >= 15, 30_000, '15 events on Kafka');
    for (const user of ['u1', 'u2', 'u3']) {
      const messages = receivedFor(`user-${user}`);
      expect(messages.map((m) => m.event.streamVersion)).toEqual([1, 2, 3, 4, 5]);
      expect(new Set(messages.map((m) => m.partition)).size).toBe(1);
      expect(messages[0].key).toBe(`user-${user}`);
      expect(messages[0].topic).toBe(`${prefix}.user`);
      expect(messages[0].headers).toMatchObject({ 'event-type': 'TestHappened', 'schema-version': '1', 'event-id': messages[0].event.eventId });
    }
    await waitFor(async () => (await relay.backlog()) === 0, 10_000, 'an empty outbox');
  });

  it('does not skip an event whose transaction took a lower position but committed later', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let latePosition = 0;
    const late = env.db.run(async (tx) => {
      [{ position: latePosition }] = await env.store.append('user-late', 0, [event(1)], context, tx);
      await held;
    });
    await waitFor(() => latePosition > 0, 5_000, 'the late transaction to take its position');
    const [early] = await env.store.append('user-early', 0, [event(1)], context);
    expect(early.position).toBeGreaterThan(latePosition);
    await waitFor(() => receivedFor('user-early').length === 1, 30_000, 'the early event on Kafka');
    release();
    await late;
    await waitFor(() => receivedFor('user-late').length === 1, 30_000, 'the late event on Kafka');
    expect(receivedFor('user-late')[0].event.position).toBe(latePosition);
  });

  it('relays from one node at a time, and another takes over when the relaying session dies', async () => {
    const standby = new OutboxRelay(env.db, transport, { pollMs: 100, standbyMs: 200 });
    standby.start();
    try {
      await new Promise((r) => setTimeout(r, 1_000));
      expect([relay.isLeader, standby.isLeader].filter(Boolean)).toHaveLength(1);
      // Kill the leader's database session, as if its node had died.
      await env.db.query(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = 7263002 AND granted`);
      await waitFor(() => relay.isLeader || standby.isLeader, 15_000, 'a new leader');
      await env.store.append('user-after-failover', 0, [event(1)], context);
      await waitFor(() => receivedFor('user-after-failover').length === 1, 30_000, 'an event after fail-over');
      await new Promise((r) => setTimeout(r, 500));
      expect([relay.isLeader, standby.isLeader].filter(Boolean)).toHaveLength(1);
    } finally {
      await standby.stop();
    }
  });

  describe('with the parameters projection consuming Kafka', () => {
    let runner: ProjectionRunner;
    const projection = new ParametersProjection();
    const handler = () => new ChangeParametersHandler(env.store);
    const readModel = () => new PostgresParametersReadModel(env.db);

    beforeAll(async () => {
      runner = new ProjectionRunner(env.db, env.store, transport, [projection], prefix);
      await runner.start({ catchUpFromStore: false });
    });
    afterAll(async () => runner?.stop());

    it('applies a redelivered or republished event once', async () => {
      const result = await handler().execute(new ChangeParametersCommand({ accessTokenExpiryMinutes: 15 }, context));
      await waitFor(async () => (await readModel().current()).values.accessTokenExpiryMinutes === 15, 30_000, 'the projection');
      const [appended] = await env.store.readAll(result.position! - 1, 1);
      expect(await runner.handle(projection, appended)).toBe(false);
      await transport.publish([appended]);
      await new Promise((r) => setTimeout(r, 1_000));
      expect((await readModel().history(500)).filter((c) => c.position === appended.position)).toHaveLength(1);
    });

    it('keeps taking commands while Kafka is down, and delivers every event in order, once, when it is back', async () => {
      const before = (await readModel().history(500)).length;
      kafka('kafka-stop');
      const positions: number[] = [];
      try {
        for (let minutes = 100; minutes < 120; minutes++) {
          const result = await handler().execute(new ChangeParametersCommand({ accessTokenExpiryMinutes: minutes }, context));
          positions.push(result.position!);
        }
        expect(await relay.backlog()).toBeGreaterThan(0);
      } finally {
        kafka('kafka-start');
      }
      await waitFor(async () => (await readModel().history(500)).length === before + 20, 120_000, 'all 20 changes projected');
      const history = (await readModel().history(500)).slice(0, 20).reverse();
      expect(history.map((h) => h.position)).toEqual(positions);
      expect(history.map((h) => h.changes.accessTokenExpiryMinutes)).toEqual(positions.map((_, i) => 100 + i));
      expect((await readModel().current()).values.accessTokenExpiryMinutes).toBe(119);
      await waitFor(() => receivedFor('parameters-cluster').length >= 21, 60_000, 'the probe to see them too');
      const versions = receivedFor('parameters-cluster').map((r) => r.event.streamVersion);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
    });

    it('rebuilds from position 0 to the same read model', async () => {
      const live = { current: await readModel().current(), history: await readModel().history(500) };
      const applied = await runner.rebuild(projection);
      expect(applied).toBe(live.history.length);
      expect(await readModel().current()).toEqual(live.current);
      expect(await readModel().history(500)).toEqual(live.history);
    });
  });

  describe('with several projections in one consumer group', () => {
    let runner: ProjectionRunner;
    /** Fails its first two deliveries, as a projection whose database is briefly away would. */
    const flaky = new (class implements Projection {
      readonly name = 'flaky';
      readonly categories = ['parameters'] as const;
      failuresLeft = 2;
      attempts = 0;
      readonly applied: number[] = [];
      async apply(_manager: unknown, event: EventEnvelope): Promise<void> {
        this.attempts++;
        if (this.failuresLeft-- > 0) throw new Error('flaky is down');
        this.applied.push(event.position);
      }
      async clear(): Promise<void> {}
    })();
    const readModel = () => new PostgresParametersReadModel(env.db);
    const groupPrefix = `${prefix}.shared`;

    beforeAll(async () => {
      runner = new ProjectionRunner(env.db, env.store, transport, [new ParametersProjection(), flaky], groupPrefix);
      await runner.start({ catchUpFromStore: false });
    });
    afterAll(async () => runner?.stop());

    it('fetches once for all of them and applies a delivery to all in one transaction, delivered again whole while one of them fails', async () => {
      const admin = new Kafka({ clientId: 'it-admin', brokers: KAFKA_BROKERS.split(',') }).admin();
      await admin.connect();
      try {
        const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`${groupPrefix}.`));
        expect(groups).toEqual([`${groupPrefix}.projections`]);
      } finally {
        await admin.disconnect();
      }
      // The runner above has stopped; this one starts from the topics' beginning and skips what it applied.
      const result = await new ChangeParametersHandler(env.store).execute(new ChangeParametersCommand({ accessTokenExpiryMinutes: 33 }, context));
      // apply() runs before the commit: what is committed is what the checkpoints say.
      await waitFor(async () => (await runner.status()).every((s) => s.position >= result.position!), 30_000, 'both projections to commit the change');
      expect(flaky.attempts - flaky.applied.length).toBe(2);
      expect(flaky.applied.filter((p) => p === result.position)).toHaveLength(1);
      expect((await readModel().current()).values.accessTokenExpiryMinutes).toBe(33);
      expect((await readModel().history(500)).filter((c) => c.position === result.position)).toHaveLength(1);
      const status = await runner.status();
      // applied_at is the transaction's now(): the same for both projections when one transaction applied them.
      expect(new Set(status.map((s) => s.appliedAt)).size).toBe(1);
    });
  });
});
