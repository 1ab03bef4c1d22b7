import type { DomainEvent, EventEnvelope } from '@authz/contracts';
import { ConcurrencyError, type EventStore, type RequestContext } from './ports/event-store.port';

/**
 * Re-runs load → decide → append when another writer got to the stream first. Only for
 * commands whose decision is safe to remake from the newer state.
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || i >= attempts) throw error;
    }
  }
}

/**
 * Appends to a stream that is a log (a purge's or a replay's summaries): nothing is decided
 * from what it holds, so the events go at its end, whoever appended meanwhile.
 */
export function appendToLog(store: EventStore, stream: string, events: readonly DomainEvent[], context: RequestContext): Promise<EventEnvelope[]> {
  return retryOnConflict(async () => {
    const version = (await store.readStream(stream)).at(-1)?.streamVersion ?? 0;
    return store.append(stream, version, events, context);
  });
}
