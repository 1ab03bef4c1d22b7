export const REFRESH_TOKENS_PURGED = 'RefreshTokensPurged';
export const PROJECTION_REPLAYED = 'ProjectionReplayed';

/**
 * v1. Seed S14: one run of the purge of expired refresh tokens from `refreshtokendetails`
 * (stream `maintenance-purge`). Rows were deleted in validity order, so every row with a
 * validity up to `through` is gone: a rebuild from position 0 deletes the same rows.
 */
export interface RefreshTokensPurgedV1 {
  cutoff: string;
  /** The validity of the last row deleted; null when nothing was. */
  through: string | null;
  count: number;
  batches: number;
  /** The run stopped at its cap with expired rows left for the next run. */
  capped: boolean;
  durationMs: number;
  trigger: 'schedule' | 'manual';
}

/** v1. An operator rebuilt a read model or a key cache (stream `maintenance-replay`). */
export interface ProjectionReplayedV1 {
  projection: string;
  from: number;
  source: 'store' | 'kafka';
  events: number;
  durationMs: number;
}
