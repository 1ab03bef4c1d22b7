import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';
import { STREAM_CATEGORIES, categoryOf, topicFor, type EventEnvelope, type StreamCategory } from '@authz/contracts';
import type { ErrorLogFields, EventHistory, EventTransport, SubscribeOptions, Subscription } from '@authz/application';
import { logFieldsOf } from './log-fields';
import { decode, encode } from './codec';

export interface KafkaTransportOptions {
  brokers: string[];
  clientId: string;
  topicPrefix: string;
  partitions: number;
  replicationFactor: number;
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: ErrorLogFields) => void;
}

const HEALTH_TIMEOUT_MS = 3_000;
const HANDLER_RETRY_MS = 500;
const JOIN_WAIT_MS = 30_000;
const COMMIT_INTERVAL_MS = 1_000;
const FETCH_MIN_BYTES = 16 * 1024;
const FETCH_MAX_WAIT_MS = 200;
/** A history read that gets nothing new for this long has stalled (the broker went away?). */
const HISTORY_IDLE_MS = 60_000;

/**
 * Cluster mode's transport. One topic per stream category, kept for ever, keyed by stream;
 * an idempotent producer with acks from all in-sync replicas and one request in flight, so
 * that a retried send neither duplicates nor reorders.
 */
export class KafkaTransport implements EventTransport, EventHistory {
  private readonly kafka: Kafka;
  private producer?: Producer;
  private readonly consumers = new Set<Consumer>();
  private readonly log: NonNullable<KafkaTransportOptions['log']>;

  constructor(private readonly options: KafkaTransportOptions) {
    this.log = options.log ?? (() => undefined);
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: logLevel.NOTHING,
      retry: { initialRetryTime: 200, retries: 5 },
      connectionTimeout: 3_000,
    });
  }

  topic(category: StreamCategory): string {
    return topicFor(this.options.topicPrefix, category);
  }

  /** Creates the topics if missing: on KRaft a consumer cannot subscribe to a topic that does not exist. */
  async ensureTopics(): Promise<void> {
    await this.withAdmin(async (admin) => {
      const existing = new Set(await admin.listTopics());
      const missing = STREAM_CATEGORIES.map((c) => this.topic(c)).filter((t) => !existing.has(t));
      if (missing.length === 0) return;
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: this.options.partitions,
          replicationFactor: this.options.replicationFactor,
          configEntries: [{ name: 'retention.ms', value: '-1' }],
        })),
      });
    });
  }

  async publish(events: readonly EventEnvelope[]): Promise<void> {
    const byTopic = new Map<string, EventEnvelope[]>();
    for (const event of events) {
      const topic = this.topic(categoryOf(event.streamId));
      const batch = byTopic.get(topic);
      if (batch) batch.push(event);
      else byTopic.set(topic, [event]);
    }
    const producer = await this.connectedProducer();
    try {
      await producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, batch]) => ({ topic, messages: batch.map(encode) })),
      });
    } catch (error) {
      // A producer that failed may hold stale broker metadata or sequence numbers: start afresh.
      this.producer = undefined;
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  async subscribe(options: SubscribeOptions, handle: (events: EventEnvelope[]) => Promise<void>): Promise<Subscription> {
    const consumer = this.kafka.consumer({
      groupId: options.group,
      retry: { initialRetryTime: 300, retries: 8, restartOnFailure: async () => true },
      minBytes: FETCH_MIN_BYTES,
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
    });
    this.consumers.add(consumer);
    let closing = false;
    await consumer.connect();
    const joined = new Promise<void>((resolve) => {
      const remove = consumer.on(consumer.events.GROUP_JOIN, () => {
        remove();
        resolve();
      });
    });
    await consumer.subscribe({ topics: options.categories.map((c) => this.topic(c)), fromBeginning: options.fromBeginning });
    await consumer.run({
      partitionsConsumedConcurrently: this.options.partitions,
      eachBatchAutoResolve: true,
      // kafkajs would commit the offsets after every batch: a request and a write to
      // __consumer_offsets each time. Handlers are idempotent (projections skip what they
      // applied), so offsets are committed at most once per interval, and what a restart
      // delivers again is skipped.
      autoCommit: false,
      autoCommitInterval: COMMIT_INTERVAL_MS,
      eachBatch: async ({ batch, heartbeat, resolveOffset, commitOffsetsIfNecessary }) => {
        const events = batch.messages.map((m) => decode(m.value, m.headers));
        // A failing handler (e.g. the database is down) blocks its partition rather than skip an event.
        for (;;) {
          try {
            await handle(events);
            resolveOffset(batch.lastOffset());
            await commitOffsetsIfNecessary();
            return;
          } catch (error) {
            if (closing) throw error;
            this.log('warn', `consumer ${options.group}: ${events.length} events from ${events[0]?.position} failed, retrying: ${(error as Error).message}`, logFieldsOf(error));
            await new Promise((resolve) => setTimeout(resolve, HANDLER_RETRY_MS));
            await heartbeat().catch(() => undefined);
          }
        }
      },
    });
    // Resolving once the group has joined means events published from now on are seen.
    await Promise.race([joined, new Promise((resolve) => setTimeout(resolve, JOIN_WAIT_MS).unref())]);
    return {
      close: async () => {
        closing = true;
        this.consumers.delete(consumer);
        await consumer.disconnect();
      },
    };
  }

  /**
   * Reads the topics of these categories from their first offset up to the high-water marks
   * taken at the call, with a consumer group of its own that commits nothing and is deleted
   * afterwards. Partitions are read one batch at a time, so `handle` never runs twice at once.
   */
  async readHistory(
    categories: readonly StreamCategory[],
    handle: (events: EventEnvelope[]) => Promise<void>,
    total?: (count: number) => void,
  ): Promise<void> {
    const topics = categories.map((c) => this.topic(c));
    // Per partition, the offset after the last message to read; partitions with nothing to read are left out.
    const ends = new Map<string, number>();
    let count = 0;
    await this.withAdmin(async (admin) => {
      for (const topic of topics) {
        for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
          if (Number(high) > Number(low)) ends.set(`${topic}:${partition}`, Number(high));
          count += Number(high) - Number(low);
        }
      }
    });
    total?.(count);
    if (ends.size === 0) return;

    const groupId = `${this.options.topicPrefix}.history.${randomUUID()}`;
    const consumer = this.kafka.consumer({ groupId, retry: { initialRetryTime: 300, retries: 8 } });
    let finish!: (error?: Error) => void;
    const finished = new Promise<void>((resolve, reject) => (finish = (error) => (error ? reject(error) : resolve())));
    let lastProgress = Date.now();
    const idle = setInterval(() => {
      if (Date.now() - lastProgress > HISTORY_IDLE_MS) finish(new Error(`Kafka delivered nothing for ${HISTORY_IDLE_MS / 1000} s before the end of the topics`));
    }, 1_000);
    consumer.on(consumer.events.CRASH, ({ payload }) => finish(payload.error));
    try {
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: async ({ batch, pause, heartbeat }) => {
          const key = `${batch.topic}:${batch.partition}`;
          const end = ends.get(key);
          if (end === undefined) {
            pause();
            return;
          }
          const wanted = batch.messages.filter((m) => Number(m.offset) < end);
          try {
            if (wanted.length > 0) await handle(wanted.map((m) => decode(m.value, m.headers)));
          } catch (error) {
            finish(error as Error);
            pause();
            return;
          }
          lastProgress = Date.now();
          if (Number(batch.lastOffset()) + 1 >= end) {
            ends.delete(key);
            pause();
            if (ends.size === 0) finish();
          }
          await heartbeat();
        },
      });
      await finished;
    } finally {
      clearInterval(idle);
      await consumer.disconnect().catch(() => undefined);
      await this.withAdmin((admin) => admin.deleteGroups([groupId])).catch(() => undefined);
    }
  }

  async healthy(): Promise<boolean> {
    try {
      await this.withAdmin(async (admin) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), HEALTH_TIMEOUT_MS);
        });
        await Promise.race([admin.describeCluster(), timeout]).finally(() => clearTimeout(timer));
      });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.disconnect().catch(() => undefined)));
    this.consumers.clear();
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
  }

  private async connectedProducer(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
      this.producer = producer;
    }
    return this.producer;
  }

  private async withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return await work(admin);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
