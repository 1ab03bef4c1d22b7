import type { IHeaders, Message } from 'kafkajs';
import type { EventEnvelope } from '@authz/contracts';

/** Envelope → Kafka message. The key is the stream: one stream's events share a partition, in order. */
export function encode(event: EventEnvelope): Message {
  return {
    key: event.streamId,
    value: JSON.stringify(event),
    headers: {
      'event-id': event.eventId,
      'event-type': event.type,
      'schema-version': String(event.schemaVersion),
      'stream-id': event.streamId,
      position: String(event.position),
      'correlation-id': event.correlationId,
    },
  };
}

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return value === undefined ? undefined : String(Array.isArray(value) ? value[0] : value);
}

export function decode(value: Buffer | null, headers?: IHeaders): EventEnvelope {
  if (!value) throw new Error('empty Kafka message');
  const event = JSON.parse(value.toString('utf8')) as EventEnvelope;
  const id = header(headers, 'event-id');
  if (id !== undefined && id !== event.eventId) throw new Error(`message header event-id ${id} does not match its body`);
  return event;
}
