/** An event as it is stored in the event store and published on Kafka. */
export interface EventEnvelope<D = unknown> {
  eventId: string;
  type: string;
  schemaVersion: number;
  streamId: string;
  streamVersion: number;
  /** Global, gap-free only after commit; orders events across streams in the store. */
  position: number;
  occurredAt: string;
  nodeId: string;
  correlationId: string;
  actor: string;
  data: D;
}

/** What an aggregate decides: an event before the store gives it an identity and a position. */
export interface DomainEvent<D = unknown> {
  type: string;
  schemaVersion: number;
  data: D;
}
