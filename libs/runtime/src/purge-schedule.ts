import { PurgeRunningError, type ExpiredTokenPurge, type PurgeLog } from '@authz/application';
import type { PurgeConfig } from './config';

const DAY_MS = 86_400_000;

/** The first `at` (UTC time of day) strictly after `after`, as epoch ms. */
export function nextRunAt(at: NonNullable<PurgeConfig['at']>, after: number): number {
  const day = new Date(after);
  const today = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), at.hour, at.minute, at.second ?? 0);
  return today > after ? today : today + DAY_MS;
}

/**
 * Runs the purge every day at AUTHZ_PURGE_AT. Every node keeps this timer; the purge's lock
 * lets one of them run, and the others find it taken and wait for the next day.
 */
export class PurgeSchedule {
  private timer?: NodeJS.Timeout;
  private due = 0;
  private stopped = false;

  constructor(
    private readonly at: NonNullable<PurgeConfig['at']>,
    private readonly purge: ExpiredTokenPurge,
    private readonly log: PurgeLog,
    private readonly now: () => number = Date.now,
  ) {}

  /** When the next run is due (epoch ms); 0 before start. */
  get nextRun(): number {
    return this.due;
  }

  start(): void {
    this.stopped = false;
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.stopped) return;
    // After the last due time too: a timer that fires a little early must not run twice.
    this.due = nextRunAt(this.at, Math.max(this.now(), this.due));
    this.timer = setTimeout(() => void this.fire(), this.due - this.now());
    this.timer.unref();
  }

  private async fire(): Promise<void> {
    try {
      await this.purge.run({ trigger: 'schedule' });
    } catch (error) {
      // A failed run has logged why; another node's run is the normal case on all but one.
      if (error instanceof PurgeRunningError) this.log('info', `scheduled purge skipped: ${error.message}`);
    } finally {
      this.arm();
    }
  }
}
