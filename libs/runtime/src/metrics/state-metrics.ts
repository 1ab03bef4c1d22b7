import type { ProjectionLag } from '@authz/read-models';
import type { Log } from '../log';
import type { Metrics } from './metrics';

export interface StateSources {
  outboxBacklog(): Promise<number>;
  projectionLag(): Promise<ProjectionLag[]>;
}

/**
 * Gauges read from the shared tables at each scrape. A gauge whose query fails is left out of
 * that scrape (and the failure logged) rather than failing the whole scrape.
 */
export function stateGauges(metrics: Metrics, sources: StateSources, log: Log): void {
  const collected = async (what: string, read: () => Promise<void>, reset: () => void) => {
    reset();
    try {
      await read();
    } catch (error) {
      log('warn', `metrics: could not read the ${what}: ${(error as Error).message}`);
    }
  };
  metrics.gauge({
    name: 'authz_outbox_backlog_events',
    help: 'Events committed but not yet published to the transport (the outbox, shared by all nodes)',
    async collect() {
      await collected('outbox backlog', async () => this.set(await sources.outboxBacklog()), () => this.reset());
    },
  });
  metrics.gauge({
    name: 'authz_projection_lag_events',
    help: "Events of a projection's stream categories past its checkpoint",
    labelNames: ['projection'],
    async collect() {
      await collected('projection lag', async () => {
        for (const lag of await sources.projectionLag()) this.set({ projection: lag.projection }, lag.events);
      }, () => this.reset());
    },
  });
  metrics.gauge({
    name: 'authz_projection_lag_seconds',
    help: "Age of the oldest event of a projection's stream categories past its checkpoint (0: up to date)",
    labelNames: ['projection'],
    async collect() {
      await collected('projection lag', async () => {
        for (const lag of await sources.projectionLag()) this.set({ projection: lag.projection }, lag.seconds);
      }, () => this.reset());
    },
  });
}

/** Callers that ask while a load is under way share its answer (a scrape's two lag gauges, probes). */
export function shared<T>(load: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () =>
    (inFlight ??= load().finally(() => {
      inFlight = undefined;
    }));
}
