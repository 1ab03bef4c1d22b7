/**
 * The event-sourced spine in cluster mode, on the real PostgreSQL and Kafka of scripts/infra.sh:
 *  1. append throughput (events/s) with concurrent writers, one event per append and ten;
 *  2. end-to-end latency from the start of an append to the read model's commit (outbox relay →
 *     Kafka → projection), median and p99, under a steady load.
 * Run with `npm run bench -- spine` (needs `scripts/infra.sh up`).
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { EntityManager } from 'typeorm';
import type { EventEnvelope } from '@authz/contracts';
import { Database, OutboxRelay, PostgresEventStore } from '@authz/event-store';
import { KafkaTransport } from '@authz/messaging';
import { ProjectionRunner, type Projection } from '@authz/read-models';
import { ENTITIES, MIGRATIONS } from '@authz/runtime';

const ADMIN_URL = process.env.AUTHZ_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BROKERS = (process.env.AUTHZ_TEST_KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const context = { actor: 'bench', correlationId: 'bench' };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  await client.query(sql);
  await client.end();
}

/** Writes one row per event and notifies at commit, so the bench sees when the read model has it. */
class BenchProjection implements Projection {
  readonly name = 'bench';
  readonly categories = ['user'] as const;
  async apply(manager: EntityManager, event: EventEnvelope): Promise<void> {
    await manager.query('INSERT INTO bench_model (position, stream_id) VALUES ($1, $2)', [event.position, event.streamId]);
    await manager.query(`SELECT pg_notify('bench_applied', $1)`, [`${event.streamId}:${event.streamVersion}`]);
  }
  async clear(manager: EntityManager): Promise<void> {
    await manager.query('DELETE FROM bench_model');
  }
}

async function appendThroughput(store: PostgresEventStore, label: string, total: number, writers: number, perAppend: number) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let version = 0; next < total; version += perAppend) {
        next += perAppend;
        const events = Array.from({ length: perAppend }, (_, i) => ({ type: 'BenchHappened', schemaVersion: 1, data: { i } }));
        await store.append(`user-${label}-${w}`, version, events, context);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { label, events: next, writers, perAppend, eventsPerSecond: Math.round(next / seconds) };
}

/** The reference: bare single-row INSERT transactions on the same database and pool, same concurrency. */
async function rawCommits(db: Database, total: number, writers: number) {
  await db.query('CREATE TABLE bench_raw (id bigserial PRIMARY KEY, data jsonb NOT NULL)');
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next++ < total) await db.query('INSERT INTO bench_raw (data) VALUES ($1)', ['{"i":1}']);
    }),
  );
  return Math.round(total / ((performance.now() - started) / 1000));
}

async function main() {
  const name = `authz_bench_${Date.now().toString(36)}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const db = await Database.open({ url: url.toString(), migrations: MIGRATIONS, entities: ENTITIES, poolSize: 20 });
  await db.query('CREATE TABLE bench_model (position bigint PRIMARY KEY, stream_id text NOT NULL)');
  const store = new PostgresEventStore(db, 'bench-node');
  const transport = new KafkaTransport({ brokers: BROKERS, clientId: 'bench', topicPrefix: name, partitions: 3, replicationFactor: 1 });
  await transport.ensureTopics();
  const listener = new pg.Client({ connectionString: url.toString() });
  try {
    // 1. Append throughput, relay off: the store alone, beside bare commits.
    const rawCommitsPerSecond = await rawCommits(db, 5_000, 16);
    const single = await appendThroughput(store, 'a', 5_000, 16, 1);
    const batched = await appendThroughput(store, 'b', 20_000, 16, 10);
    await db.query('DELETE FROM outbox');

    // 2. Latency append → read model, with the relay and a projection consuming Kafka.
    const runner = new ProjectionRunner(db, store, transport, [new BenchProjection()], name);
    await runner.start({ catchUpFromStore: false });
    const relay = new OutboxRelay(db, transport, { pollMs: Number(process.env.BENCH_RELAY_POLL_MS ?? 20) });
    relay.start();
    const appendedAt = new Map<string, number>();
    const latencies: number[] = [];
    await listener.connect();
    listener.on('notification', (n) => {
      const at = appendedAt.get(n.payload ?? '');
      if (at !== undefined) latencies.push(performance.now() - at);
    });
    await listener.query('LISTEN bench_applied');
    const rate = Number(process.env.BENCH_RATE ?? 200);
    const seconds = Number(process.env.BENCH_SECONDS ?? 15);
    const total = rate * seconds;
    const started = performance.now();
    const versions = new Map<number, number>();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const stream = i % 50;
      const version = versions.get(stream) ?? 0;
      versions.set(stream, version + 1);
      appendedAt.set(`user-lat-${stream}:${version + 1}`, performance.now());
      pending.push(
        store.append(`user-lat-${stream}`, version, [{ type: 'BenchHappened', schemaVersion: 1, data: { i } }], context).then(() => undefined),
      );
      // Appends to one stream must not overtake each other.
      if (i % 50 === 49) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    const deadline = performance.now() + 60_000;
    while (latencies.length < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await relay.stop();
    await runner.stop();
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(
      JSON.stringify(
        {
          benchmark: 'spine (cluster mode: PostgreSQL + Kafka)',
          rawInsertCommitsPerSecond: rawCommitsPerSecond,
          appendThroughput: [single, batched].map((r) => ({ ...r, ratioToRawCommits: Number((r.eventsPerSecond / rawCommitsPerSecond).toFixed(2)) })),
          appendToReadModelLatencyMs: {
            load: `${rate} appends/s for ${seconds} s over 50 streams`,
            events: total,
            measured: latencies.length,
            median: Number(percentile(sorted, 50).toFixed(1)),
            p99: Number(percentile(sorted, 99).toFixed(1)),
            max: Number(sorted.at(-1)!.toFixed(1)),
          },
        },
        null,
        2,
      ),
    );
  } finally {
    await listener.end().catch(() => undefined);
    await transport.close();
    await db.close();
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
