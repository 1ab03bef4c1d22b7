import { randomUUID } from 'node:crypto';
import type { RequestContext } from '@authz/application';
import { DomainError } from '@authz/domain';
import type { Log } from '../log';
import type { Replayer, ReplayRequest, ReplaySource } from './replayer';

export interface ReplayJobView {
  id: string;
  projection: string;
  /** What it replays: `all` expanded. */
  targets: string[];
  from: number;
  source: ReplaySource;
  state: 'running' | 'done' | 'failed';
  /** Events read so far. */
  processed: number;
  /** Events to read (from the store's last position, or Kafka's high-water marks): an estimate while running. */
  total: number;
  /** Events applied, by target; once done. */
  applied?: Record<string, number>;
  /** Events read per second. */
  rate: number;
  startedAt: string;
  finishedAt: string | null;
  error?: string;
}


/** Finished jobs kept for GET /admin/replay/:id; the oldest go first. */
const KEPT = 50;

/**
 * Replays run as jobs in the background of the node that was asked, one per target at a time
 * on this node (a replay elsewhere of the same target waits for its lock). They live in this
 * node's memory only: ask the node that started one about it; a restart forgets them (a
 * replay cut short by a restart rolls back: the read models stay as they were).
 */
export class ReplayJobs {
  private readonly jobs = new Map<string, ReplayJobView>();

  constructor(
    readonly replayer: Replayer,
    private readonly log: Log,
  ) {}

  /** Starts a job; a DomainError (409) when one of its targets is being replayed already. */
  start(request: ReplayRequest, context: RequestContext): ReplayJobView {
    const targets = this.replayer.targets(request.projection);
    const busy = [...this.jobs.values()].find((j) => j.state === 'running' && j.targets.some((t) => targets.includes(t)));
    if (busy) {
      throw new DomainError('REPLAY_RUNNING', `a replay of ${busy.projection} (job ${busy.id}) is running; wait for it to finish`, { job: busy.id });
    }
    const job: ReplayJobView = {
      id: randomUUID(),
      projection: request.projection,
      targets,
      from: request.from,
      source: request.source,
      state: 'running',
      processed: 0,
      total: 0,
      rate: 0,
      startedAt: new Date().toISOString(),
      finishedAt: null,
    };
    this.jobs.set(job.id, job);
    this.prune();
    const fields = { correlationId: context.correlationId };
    this.log('info', `replay ${job.id}: ${request.projection} from ${request.from} (${request.source}) started by ${context.actor}`, fields);
    void this.replayer
      .run(request, context, ({ processed, total }) => Object.assign(job, { processed, total }))
      .then(
        (outcome) => {
          Object.assign(job, { state: 'done', applied: outcome.applied, processed: outcome.processed, total: Math.max(job.total, outcome.processed) });
          job.finishedAt = new Date().toISOString();
          this.log('info', `replay ${job.id}: ${request.projection} done, ${outcome.processed} events read in ${outcome.durationMs} ms (${this.view(job).rate} events/s)`, fields);
        },
        (error: Error) => {
          Object.assign(job, { state: 'failed', error: error.message, finishedAt: new Date().toISOString() });
          this.log('error', `replay ${job.id}: ${request.projection} failed: ${error.stack ?? error.message}`, fields);
        },
      );
    return this.view(job);
  }

  get(id: string): ReplayJobView | undefined {
    const job = this.jobs.get(id);
    return job && this.view(job);
  }

  private view(job: ReplayJobView): ReplayJobView {
    const end = job.finishedAt ? Date.parse(job.finishedAt) : Date.now();
    const seconds = Math.max(0.001, (end - Date.parse(job.startedAt)) / 1000);
    return { ...job, targets: [...job.targets], rate: Math.round(job.processed / seconds) };
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((j) => j.state !== 'running');
    for (const job of finished.slice(0, Math.max(0, finished.length - KEPT))) this.jobs.delete(job.id);
  }
}
