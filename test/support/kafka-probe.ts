import { Kafka, logLevel, type Consumer, type KafkaMessage } from 'kafkajs';
import { KAFKA_BROKERS, uniqueName } from './infra';

export interface Received {
  topic: string;
  partition: number;
  key: string;
  headers: Record<string, string>;
  event: { eventId: string; streamId: string; streamVersion: number; position: number; type: string; data: any };
}

/** A plain kafkajs consumer of the test's topics, from the beginning: what any consumer of authz would see. */
export async function probe(topics: string[]): Promise<{ received: Received[]; close: () => Promise<void> }> {
  const kafka = new Kafka({ clientId: 'test-probe', brokers: KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  const consumer: Consumer = kafka.consumer({ groupId: uniqueName('probe'), retry: { restartOnFailure: async () => true } });
  const received: Received[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    eachMessage: async ({ topic, partition, message }: { topic: string; partition: number; message: KafkaMessage }) => {
      received.push({
        topic,
        partition,
        key: message.key!.toString(),
        headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        event: JSON.parse(message.value!.toString()),
      });
    },
  });
  await joined;
  return { received, close: () => consumer.disconnect() };
}
