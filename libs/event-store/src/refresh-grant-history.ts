import {
  REFRESH_TOKEN_ROTATED,
  REFRESH_TOKENS_REVOKED,
  TOKEN_ISSUED,
  TOKEN_REFRESHED,
  TOKEN_REVOKED,
  streamId,
  type EventEnvelope,
} from '@authz/contracts';
import type { RefreshGrantHistory, Transaction } from '@authz/application';
import { managerOf, type Database } from './database';
import { EVENT_COLUMNS, toEnvelope, type EventRow } from './postgres-event-store';

// The partial index events_refresh_grants_by_user is used only when a query repeats its predicate.
const REFRESH_GRANT = `i.type = '${TOKEN_ISSUED}' AND i.data->'refreshToken' IS NOT NULL`;

/**
 * The event-store queries behind refresh grants and admin revocation. They read v1 payloads
 * in SQL: a new TokenIssued schema must keep these fields or change these queries.
 */
export class PostgresRefreshGrantHistory implements RefreshGrantHistory {
  constructor(private readonly db: Database) {}

  /**
   * One round trip: the grant's first event and those after it that are not TokenRefreshed
   * (RefreshGrant.STATELESS_EVENTS; through the index events_after_first_but_refreshes, whose
   * predicate this repeats), the stream's version, and the revocation stream of the user the
   * grant names.
   */
  async load(tid: string): Promise<{ grant: EventEnvelope[]; version: number; revocations: EventEnvelope[] }> {
    const rows = await this.db.prepared<EventRow & { is_grant: boolean; head: number | null }>(
      'authz_refresh_grant',
      `WITH grant_events AS (
         SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND stream_version = 1
         UNION ALL
         SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND stream_version > 1 AND type <> '${TOKEN_REFRESHED}')
       SELECT *, true AS is_grant, (SELECT max(stream_version) FROM events WHERE stream_id = $1) AS head FROM grant_events
       UNION ALL
       SELECT ${EVENT_COLUMNS}, false AS is_grant, NULL AS head FROM events
        WHERE stream_id = 'revocation-' || (SELECT data->>'userId' FROM grant_events WHERE stream_version = 1)
       ORDER BY position`,
      [streamId('grant', tid)],
    );
    const grant = rows.filter((r) => r.is_grant).sort((a, b) => a.stream_version - b.stream_version);
    return { grant: grant.map(toEnvelope), version: grant[0]?.head ?? 0, revocations: rows.filter((r) => !r.is_grant).map(toEnvelope) };
  }

  async countLive(userId: string, clientId: string | null, tx?: Transaction): Promise<number> {
    const sql = `
      SELECT count(*)::int AS live FROM events i
       WHERE ${REFRESH_GRANT} AND i.data->>'userId' = $1
         AND ($2::text IS NULL OR i.data->>'clientId' = $2::text)
         AND (i.data->'refreshToken'->>'expiresAt')::timestamptz > now()
         AND NOT EXISTS (SELECT 1 FROM events e WHERE e.stream_id = i.stream_id AND e.type IN ('${TOKEN_REVOKED}', '${REFRESH_TOKEN_ROTATED}'))
         AND NOT EXISTS (
           SELECT 1 FROM events r
            WHERE r.stream_id = $3 AND r.type = '${REFRESH_TOKENS_REVOKED}'
              AND r.position > coalesce((i.data->>'familyPosition')::bigint, i.position)
              AND (r.data->>'clientId' IS NULL OR r.data->>'clientId' = i.data->>'clientId'))`;
    const params = [userId, clientId, streamId('revocation', userId)];
    const [row] = tx ? await managerOf(tx).query(sql, params) : await this.db.query<{ live: number }>(sql, params);
    return Number(row.live);
  }

  async hasGrants(userId: string): Promise<boolean> {
    const rows = await this.db.query(`SELECT 1 FROM events i WHERE ${REFRESH_GRANT} AND i.data->>'userId' = $1 LIMIT 1`, [userId]);
    return rows.length > 0;
  }

  async revokedSince(userId: string, clientId: string, issuedAt: Date): Promise<boolean> {
    const rows = await this.db.query(
      `SELECT 1 FROM events WHERE stream_id = $1 AND type = '${REFRESH_TOKENS_REVOKED}' AND occurred_at > $3
          AND (data->>'clientId' IS NULL OR data->>'clientId' = $2) LIMIT 1`,
      [streamId('revocation', userId), clientId, issuedAt.toISOString()],
    );
    return rows.length > 0;
  }
}
