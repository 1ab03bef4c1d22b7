import { randomUUID } from 'node:crypto';
import { newEvent, REFRESH_TOKENS_PURGED, streamId, type RefreshTokensPurgedV1 } from '@authz/contracts';
import { DomainError } from '@authz/domain';
import type { EventStore, ExpiredTokenStore, PurgeCursor, RequestContext } from '../../ports';
import { OAuthError } from '../../oauth-error';
import { appendToLog } from '../../retry-on-conflict';

export const PURGE_STREAM = streamId('maintenance', 'purge');
/** The most rows one run may be asked to delete (AUTHZ_PURGE_MAX_ROWS, POST /admin/purge maxRows). */
export const MAX_PURGE_ROWS = 100_000_000;
/** A progress line in the log every this many batches. */
const LOG_EVERY_BATCHES = 20;

export interface PurgeSettings {
  /** Rows per DELETE, each in its own short transaction. */
  batchSize: number;
  /** The pause between batches, in ms: the token endpoint's queries get the database between them. */
  pauseMs: number;
  /** At most this many rows per run; the next run takes the rest. */
  maxRows: number;
  /** A row is expired when its validity is older than now minus this. */
  graceSeconds: number;
  nodeId: string;
}

export type PurgeTrigger = RefreshTokensPurgedV1['trigger'];

export interface PurgeRequest {
  trigger: PurgeTrigger;
  /** This run's cap instead of the configured one. */
  maxRows?: number;
  /** Who asked (manual runs); scheduled runs act as `system:<node>`. */
  context?: RequestContext;
}

export interface PurgeSummary extends RefreshTokensPurgedV1 {
  startedAt: string;
  /** The most rows one DELETE removed in this run: never more than the batch size. */
  largestBatch: number;
  /** Where the RefreshTokensPurged event went; null when the run appended none. */
  position: number | null;
}

/** What this node's purge is doing, for /metrics and logs. */
export interface PurgeStatus {
  running: boolean;
  trigger: PurgeTrigger | null;
  startedAt: string | null;
  cutoff: string | null;
  /** Rows deleted and batches run so far by the current run (0 when idle). */
  deleted: number;
  batches: number;
  largestBatch: number;
  lastRun: PurgeSummary | null;
  /** Since this process started: counters for Prometheus. */
  totals: { runs: number; rows: number; batches: number; alreadyRunning: number; failures: number };
}

/** `correlationId`: of the request that started the run, if one did. */
export type PurgeLog = (level: 'info' | 'warn' | 'error', message: string, fields?: { correlationId?: string }) => void;

/** Another run holds the purge lock, on this node or another: answered with 409. */
export class PurgeRunningError extends DomainError {
  constructor(where: 'here' | 'elsewhere') {
    super(
      'PURGE_RUNNING',
      where === 'here'
        ? 'a purge of expired refresh tokens is already running on this node'
        : 'another node is purging expired refresh tokens; try again when it has finished',
    );
    this.name = 'PurgeRunningError';
  }
}

interface Progress {
  trigger: PurgeTrigger;
  startedAt: number;
  cutoff: Date;
  deleted: number;
  batches: number;
  largestBatch: number;
}

/**
 * Seed S14, without the original's CPU spike: deletes expired refresh tokens from the read
 * model in small batches, each its own short transaction, with a pause between them and a cap
 * per run, so the token endpoint keeps the database. One node at a time (a lock the store
 * holds for the run). Each run that deleted something, and each manual run, is recorded as a
 * RefreshTokensPurged event: rows go in (validity, pkid) order, so a replay deletes the same
 * rows by `validity <= through`. A scheduled run that found nothing records nothing, so that
 * every node's daily timer does not add an event.
 */
export class ExpiredTokenPurge {
  private busy = false;
  private progress?: Progress;
  private lastRun: PurgeSummary | null = null;
  private readonly totals = { runs: 0, rows: 0, batches: 0, alreadyRunning: 0, failures: 0 };
  private stopping = false;
  private current?: Promise<unknown>;
  private wake?: () => void;

  constructor(
    private readonly tokens: ExpiredTokenStore,
    private readonly events: EventStore,
    private readonly settings: PurgeSettings,
    private readonly log: PurgeLog = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs one purge; PurgeRunningError when one runs already, here or on another node. */
  run(request: PurgeRequest): Promise<PurgeSummary> {
    if (this.stopping) return Promise.reject(new OAuthError('temporarily_unavailable', 'this node is shutting down'));
    // Checked and set before any await: the lock is per session, and embedded mode has one.
    if (this.busy) return Promise.reject(new PurgeRunningError('here'));
    this.busy = true;
    const run = this.exclusive(request).finally(() => {
      this.busy = false;
    });
    this.current = run.catch(() => undefined);
    return run;
  }

  status(): PurgeStatus {
    const p = this.progress;
    return {
      running: p !== undefined,
      trigger: p?.trigger ?? null,
      startedAt: p ? new Date(p.startedAt).toISOString() : null,
      cutoff: p ? p.cutoff.toISOString() : null,
      deleted: p?.deleted ?? 0,
      batches: p?.batches ?? 0,
      largestBatch: p?.largestBatch ?? 0,
      lastRun: this.lastRun,
      totals: { ...this.totals },
    };
  }

  /** Ends a running purge after its current batch (and its event); no new run starts. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.current;
  }

  private async exclusive(request: PurgeRequest): Promise<PurgeSummary> {
    const outcome = await this.tokens.exclusively(() => this.purge(request));
    if (!outcome.acquired) {
      this.totals.alreadyRunning++;
      throw new PurgeRunningError('elsewhere');
    }
    return outcome.value;
  }

  private async purge(request: PurgeRequest): Promise<PurgeSummary> {
    const { batchSize, pauseMs, graceSeconds } = this.settings;
    const maxRows = request.maxRows ?? this.settings.maxRows;
    const fields = { correlationId: request.context?.correlationId };
    const progress: Progress = {
      trigger: request.trigger,
      startedAt: this.now(),
      cutoff: new Date(this.now() - graceSeconds * 1000),
      deleted: 0,
      batches: 0,
      largestBatch: 0,
    };
    this.progress = progress;
    this.totals.runs++;
    let after: PurgeCursor | null = null;
    let failure: Error | undefined;
    try {
      while (progress.deleted < maxRows && !this.stopping) {
        if (progress.batches > 0 && pauseMs > 0) await this.pause(pauseMs);
        if (this.stopping) break;
        const wanted = Math.min(batchSize, maxRows - progress.deleted);
        const batch = await this.tokens.deleteBatch(progress.cutoff, wanted, after);
        progress.batches++;
        progress.deleted += batch.deleted;
        progress.largestBatch = Math.max(progress.largestBatch, batch.deleted);
        this.totals.batches++;
        this.totals.rows += batch.deleted;
        after = batch.last ?? after;
        if (progress.batches % LOG_EVERY_BATCHES === 0) {
          this.log('info', `purge progress ${JSON.stringify({ deleted: progress.deleted, batches: progress.batches, cutoff: progress.cutoff.toISOString() })}`, fields);
        }
        if (batch.deleted < wanted) break;
      }
    } catch (error) {
      failure = error as Error;
    }
    try {
      const capped = !failure && progress.deleted >= maxRows && (await this.tokens.anyExpired(progress.cutoff, after));
      const summary: PurgeSummary = {
        cutoff: progress.cutoff.toISOString(),
        through: after?.validity ?? null,
        count: progress.deleted,
        batches: progress.batches,
        capped,
        durationMs: this.now() - progress.startedAt,
        trigger: request.trigger,
        startedAt: new Date(progress.startedAt).toISOString(),
        largestBatch: progress.largestBatch,
        position: null,
      };
      if (summary.count > 0 || request.trigger === 'manual') summary.position = await this.record(summary, request.context);
      this.lastRun = summary;
      this.log(failure ? 'warn' : 'info', `purge ${failure ? 'stopped by an error' : this.stopping ? 'stopped by shutdown' : 'done'} ${JSON.stringify(summary)}`, fields);
    } catch (error) {
      failure ??= error as Error;
    } finally {
      this.progress = undefined;
    }
    if (failure) {
      this.totals.failures++;
      this.log('error', `purge failed after ${progress.deleted} rows: ${failure.message}`, fields);
      throw new OAuthError('temporarily_unavailable', `the purge stopped after ${progress.deleted} rows (the server log says why); the next run continues`);
    }
    return this.lastRun!;
  }

  private async record(summary: PurgeSummary, context?: RequestContext): Promise<number> {
    const data: RefreshTokensPurgedV1 = {
      cutoff: summary.cutoff,
      through: summary.through,
      count: summary.count,
      batches: summary.batches,
      capped: summary.capped,
      durationMs: summary.durationMs,
      trigger: summary.trigger,
    };
    const by = context ?? { actor: `system:${this.settings.nodeId}`, correlationId: `purge-${randomUUID()}` };
    const [event] = await appendToLog(this.events, PURGE_STREAM, [newEvent(REFRESH_TOKENS_PURGED, data)], by);
    return event.position;
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    }).finally(() => {
      this.wake = undefined;
    });
  }
}

export const EXPIRED_TOKEN_PURGE = Symbol('ExpiredTokenPurge');
