import type { ExpiredTokenStore, PurgeCursor, PurgedBatch } from '@authz/application';
import type { Database } from '@authz/event-store';

/** The session advisory lock of the purge, beside the migrations' (7_263_001) and the relay's (7_263_002). */
const PURGE_LOCK = 7_263_003;
/** A batch waits at most this long for a table lock (DDL, a replay's swap), then fails instead of queueing others behind it. */
const LOCK_TIMEOUT = '500ms';
/** A batch of a few thousand rows takes milliseconds; one that takes this long is stopped. */
const STATEMENT_TIMEOUT = '10s';
const ISO_UTC = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/** Expired rows ($1 is the cutoff) after the cursor (from $<at> on), in (validity, pkid) order: a range of refreshtokendetails_validity. */
function expiredAfter(after: PurgeCursor | null, at: number): { where: string; params: unknown[] } {
  return after
    ? { where: `validity < $1::timestamptz AND (validity, pkid) > ($${at}::timestamptz, $${at + 1}::text)`, params: [after.validity, after.pkid] }
    : { where: 'validity < $1::timestamptz', params: [] };
}

/**
 * The purge's side of `refreshtokendetails` on PostgreSQL (or PGlite). Rows are locked with
 * SKIP LOCKED, so a batch never waits for the projection, and the batch after starts where
 * the last one stopped, so that none walks the index entries of rows already deleted.
 */
export class PostgresExpiredTokenStore implements ExpiredTokenStore {
  constructor(private readonly db: Database) {}

  async exclusively<T>(work: () => Promise<T>): Promise<{ acquired: true; value: T } | { acquired: false }> {
    // Embedded mode is one node on one session, where the lock always succeeds (it is
    // re-entrant): the job's own guard keeps runs apart there.
    if (this.db.embedded) {
      await this.db.query('SELECT pg_advisory_lock($1)', [PURGE_LOCK]);
      try {
        return { acquired: true, value: await work() };
      } finally {
        await this.db.query('SELECT pg_advisory_unlock($1)', [PURGE_LOCK]);
      }
    }
    // A session of its own holds the lock for the run; if the node dies, the session ends and
    // the lock with it.
    return this.db.withConnection(async (runner) => {
      const [{ locked }] = await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [PURGE_LOCK]);
      if (!locked) return { acquired: false as const };
      try {
        return { acquired: true as const, value: await work() };
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [PURGE_LOCK]).catch(() => undefined);
      }
    });
  }

  deleteBatch(cutoff: Date, limit: number, after: PurgeCursor | null): Promise<PurgedBatch> {
    const range = expiredAfter(after, 3);
    return this.db.transaction(async (manager) => {
      await manager.query(`SELECT set_config('lock_timeout', $1::text, true), set_config('statement_timeout', $2::text, true)`, [LOCK_TIMEOUT, STATEMENT_TIMEOUT]);
      // The rows are picked and locked first (an index range, then an array), then deleted by
      // their tuple ids, which a row lock keeps stable. `pkid IN (SELECT …)` made PostgreSQL
      // hash-join the subquery against a scan of the whole table: each batch read every row.
      const [row] = await manager.query(
        `WITH deleted AS (
           DELETE FROM refreshtokendetails
            WHERE ctid = ANY (ARRAY(SELECT ctid FROM refreshtokendetails
                                     WHERE ${range.where}
                                     ORDER BY validity, pkid
                                     LIMIT $2::int
                                       FOR UPDATE SKIP LOCKED))
           RETURNING validity, pkid)
         SELECT (SELECT count(*)::int FROM deleted) AS deleted, last.validity, last.pkid
           FROM (SELECT 1) AS one
           LEFT JOIN LATERAL (SELECT to_char(validity AT TIME ZONE 'UTC', ${ISO_UTC}) AS validity, pkid
                                FROM deleted ORDER BY deleted.validity DESC, deleted.pkid DESC LIMIT 1) AS last ON true`,
        [cutoff, limit, ...range.params],
      );
      const { deleted, validity, pkid } = row as { deleted: number; validity: string | null; pkid: string | null };
      return { deleted, last: validity === null || pkid === null ? null : { validity, pkid } };
    });
  }

  async anyExpired(cutoff: Date, after: PurgeCursor | null): Promise<boolean> {
    const range = expiredAfter(after, 2);
    const [row] = await this.db.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM refreshtokendetails WHERE ${range.where}) AS any`, [cutoff, ...range.params]);
    return row.any;
  }
}
