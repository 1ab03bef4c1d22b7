/** Where the last batch stopped: the next one starts after it, so no batch rescans deleted rows. */
export interface PurgeCursor {
  /** The row's validity with microseconds, as PostgreSQL prints it in ISO 8601 (UTC). */
  validity: string;
  pkid: string;
}

export interface PurgedBatch {
  /** Rows the DELETE removed (its RETURNING rows). */
  deleted: number;
  /** The last row deleted, in (validity, pkid) order; null when none was. */
  last: PurgeCursor | null;
}

/**
 * The refresh-token read model as the purge sees it. Each call is one short transaction
 * with a lock and a statement timeout, so that a purge never holds locks for long.
 */
export interface ExpiredTokenStore {
  /**
   * Runs `work` holding the cluster-wide purge lock, released afterwards; answers
   * `{ acquired: false }` at once, without running it, when another node holds it.
   */
  exclusively<T>(work: () => Promise<T>): Promise<{ acquired: true; value: T } | { acquired: false }>;
  /**
   * Deletes up to `limit` rows with validity < `cutoff`, after `after`, in (validity, pkid)
   * order; rows another transaction holds are skipped, not waited for.
   */
  deleteBatch(cutoff: Date, limit: number, after: PurgeCursor | null): Promise<PurgedBatch>;
  /** Whether an expired row is left after `after`. */
  anyExpired(cutoff: Date, after: PurgeCursor | null): Promise<boolean>;
}
