import type { EventEnvelope } from '@authz/contracts';
import { categoryOf } from '@authz/contracts';
import type { ErrorLogFields, EventTransport, SubscribeOptions, Subscription } from '@authz/application';
import { logFieldsOf } from './log-fields';

interface Subscriber {
  options: SubscribeOptions;
  handle: (events: EventEnvelope[]) => Promise<void>;
  queue: EventEnvelope[];
  draining?: Promise<void>;
  closed: boolean;
}

const RETRY_MS = 200;
const MAX_BATCH = 500;

/**
 * Embedded mode's transport: delivers to subscribers of this process, each in its own
 * queue, in publish order and in batches, retrying a failed handler until it succeeds. Nothing is kept:
 * a subscriber that starts late catches up from the event store instead.
 */
export class InProcessTransport implements EventTransport {
  private readonly subscribers: Subscriber[] = [];

  constructor(private readonly log: (message: string, fields?: ErrorLogFields) => void = () => undefined) {}

  async publish(events: readonly EventEnvelope[]): Promise<void> {
    for (const subscriber of this.subscribers) {
      const wanted = events.filter((e) => subscriber.options.categories.includes(categoryOf(e.streamId)));
      if (wanted.length === 0) continue;
      subscriber.queue.push(...wanted);
      subscriber.draining ??= this.drain(subscriber);
    }
  }

  async subscribe(options: SubscribeOptions, handle: (events: EventEnvelope[]) => Promise<void>): Promise<Subscription> {
    const subscriber: Subscriber = { options, handle, queue: [], closed: false };
    this.subscribers.push(subscriber);
    return {
      close: async () => {
        subscriber.closed = true;
        this.subscribers.splice(this.subscribers.indexOf(subscriber), 1);
        await subscriber.draining;
      },
    };
  }

  async healthy(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscribers].map((s) => ((s.closed = true), s.draining)));
    this.subscribers.length = 0;
  }

  private async drain(subscriber: Subscriber): Promise<void> {
    while (!subscriber.closed && subscriber.queue.length > 0) {
      const batch = subscriber.queue.slice(0, MAX_BATCH);
      try {
        await subscriber.handle(batch);
        subscriber.queue.splice(0, batch.length);
      } catch (error) {
        this.log(`subscriber ${subscriber.options.group} failed, retrying: ${(error as Error).message}`, logFieldsOf(error));
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
    subscriber.draining = undefined;
  }
}
