import type { PurgeStatus } from '@authz/application';
import type { Metrics } from './metrics';

/** The purge's progress (seed S14), read from the job at each scrape. */
export function purgeMetrics(metrics: Metrics, status: () => PurgeStatus): void {
  metrics.gauge({
    name: 'authz_purge_running',
    help: '1 while this node runs a purge of expired refresh tokens',
    collect() {
      this.set(status().running ? 1 : 0);
    },
  });
  metrics.gauge({
    name: 'authz_purge_run_deleted_rows',
    help: 'Rows the running purge has deleted so far (0 when none runs)',
    collect() {
      this.set(status().deleted);
    },
  });
  metrics.gauge({
    name: 'authz_purge_run_batches',
    help: 'Batches the running purge has done so far (0 when none runs)',
    collect() {
      this.set(status().batches);
    },
  });
  metrics.gauge({
    name: 'authz_purge_largest_batch_rows',
    help: 'The largest batch of the running or last purge: never above AUTHZ_PURGE_BATCH_SIZE',
    collect() {
      const s = status();
      this.set(s.running ? s.largestBatch : (s.lastRun?.largestBatch ?? 0));
    },
  });
  const totals: [string, string, keyof PurgeStatus['totals']][] = [
    ['authz_purge_runs_total', 'Purge runs this node completed', 'runs'],
    ['authz_purge_rows_total', 'Expired refresh-token rows this node purged', 'rows'],
    ['authz_purge_batches_total', 'Purge batches this node ran', 'batches'],
    ['authz_purge_refused_total', 'Purges refused because another ran (this node or another)', 'alreadyRunning'],
    ['authz_purge_failures_total', 'Purge runs that failed', 'failures'],
  ];
  for (const [name, help, key] of totals) {
    metrics.counter({
      name,
      help,
      collect() {
        this.reset();
        this.inc(status().totals[key]);
      },
    });
  }
}
