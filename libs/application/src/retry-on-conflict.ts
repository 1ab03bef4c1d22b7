import { ConcurrencyError } from './ports/event-store.port';

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
