import {
  REFRESH_TOKEN_FAMILY_REVOKED,
  REFRESH_TOKEN_ROTATED,
  REFRESH_TOKENS_REVOKED,
  TOKEN_ISSUED,
  TOKEN_REFRESHED,
  TOKEN_REVOKED,
  streamId,
  type EventEnvelope,
} from '@authz/contracts';
import type { RefreshGrantHistory, Transaction } from '@authz/application';
import { Batcher, HOT_PATH_BATCHING } from './batcher';
import { managerOf, type Database } from './database';
import { EVENT_COLUMNS, toEnvelope, type EventRow } from './postgres-event-store';

// The partial index events_refresh_grants_by_user is used only when a query repeats its predicate.
const REFRESH_GRANT = `i.type = '${TOKEN_ISSUED}' AND i.data->'refreshToken' IS NOT NULL`;

type GrantHistory = Awaited<ReturnType<RefreshGrantHistory['load']>>;

function listOf<T>(lists: Map<string, T[]>, key: string): T[] {
  let list = lists.get(key);
  if (!list) lists.set(key, (list = []));
  return list;
}

interface RevocationCheck {
  userId: string;
  clientId: string;
  issuedAt: Date;
  family?: string;
}

/**
 * The event-store queries behind refresh grants and admin revocation. They read v1 payloads
 * in SQL: a new TokenIssued schema must keep these fields or change these queries.
 */
export class PostgresRefreshGrantHistory implements RefreshGrantHistory {
  private readonly loads = new Batcher<string, GrantHistory>(undefined, (streams) => this.loadAll(streams), HOT_PATH_BATCHING);
  private readonly revocationChecks = new Batcher<RevocationCheck, boolean>(undefined, (checks) => this.revokedSinceAll(checks), HOT_PATH_BATCHING);

  constructor(private readonly db: Database) {}

  /**
   * The grant's first event and those after it that are not TokenRefreshed
   * (it decides nothing: RefreshGrant.load), the stream's version, and the revocation stream of the
   * user the grant names. Concurrent refreshes share one query.
   */
  load(tid: string): Promise<GrantHistory> {
    return this.loads.add(streamId('grant', tid));
  }

  /**
   * Through the index events_after_first_but_refreshes, whose predicate this repeats; each
   * stream's version from the end of its (stream, version) index, not by counting it.
   */
  private async loadAll(streams: readonly string[]): Promise<GrantHistory[]> {
    const rows = await this.db.prepared<EventRow & { kind: 'grant' | 'revocation' | 'head'; head: number | null }>(
      'authz_refresh_grants',
      `WITH grant_events AS (
         SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ANY($1::text[]) AND stream_version = 1
         UNION ALL
         SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ANY($1::text[]) AND stream_version > 1 AND type <> '${TOKEN_REFRESHED}')
       SELECT *, 'grant' AS kind, NULL::int AS head FROM grant_events
       UNION ALL
       SELECT ${EVENT_COLUMNS}, 'revocation', NULL FROM events
        WHERE stream_id IN (SELECT 'revocation-' || (data->>'userId') FROM grant_events WHERE stream_version = 1)
       UNION ALL
       SELECT NULL, NULL, s.stream_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'head',
              (SELECT max(stream_version) FROM events e WHERE e.stream_id = s.stream_id)
         FROM unnest($1::text[]) AS s (stream_id)`,
      [streams],
    );
    const revocations = new Map<string, EventEnvelope[]>();
    const grants = new Map<string, EventRow[]>();
    const heads = new Map<string, number>();
    for (const row of rows) {
      if (row.kind === 'head') heads.set(row.stream_id, row.head ?? 0);
      else if (row.kind === 'revocation') listOf(revocations, row.stream_id).push(toEnvelope(row));
      else listOf(grants, row.stream_id).push(row);
    }
    return streams.map((stream) => {
      const grant = (grants.get(stream) ?? []).sort((a, b) => a.stream_version - b.stream_version).map(toEnvelope);
      const userId = (grant[0]?.data as { userId?: unknown } | undefined)?.userId;
      const ofUser = typeof userId === 'string' ? (revocations.get(streamId('revocation', userId)) ?? []) : [];
      return { grant, version: heads.get(stream) ?? 0, revocations: [...ofUser].sort((a, b) => a.position - b.position) };
    });
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
              AND (r.data->>'clientId' IS NULL OR r.data->>'clientId' = i.data->>'clientId'))
         AND NOT EXISTS (
           SELECT 1 FROM events f
            WHERE f.stream_id = $3 AND f.type = '${REFRESH_TOKEN_FAMILY_REVOKED}'
              AND f.data->>'family' = coalesce(i.data->>'family', i.data->'refreshToken'->>'tid'))`;
    const params = [userId, clientId, streamId('revocation', userId)];
    const [row] = tx ? await managerOf(tx).query(sql, params) : await this.db.query<{ live: number }>(sql, params);
    return Number(row.live);
  }

  async hasGrants(userId: string): Promise<boolean> {
    const rows = await this.db.query(`SELECT 1 FROM events i WHERE ${REFRESH_GRANT} AND i.data->>'userId' = $1 LIMIT 1`, [userId]);
    return rows.length > 0;
  }

  /** Concurrent checks (introspection of users' tokens) share one query. */
  revokedSince(userId: string, clientId: string, issuedAt: Date, family?: string): Promise<boolean> {
    return this.revocationChecks.add({ userId, clientId, issuedAt, family });
  }

  private async revokedSinceAll(checks: readonly RevocationCheck[]): Promise<boolean[]> {
    const rows = await this.db.prepared<{ stream_id: string; type: string; client_id: string | null; family: string | null; occurred_at: Date }>(
      'authz_revocations_of_users',
      `SELECT stream_id, type, data->>'clientId' AS client_id, data->>'family' AS family, occurred_at FROM events
        WHERE stream_id = ANY($1::text[]) AND type IN ('${REFRESH_TOKENS_REVOKED}', '${REFRESH_TOKEN_FAMILY_REVOKED}')`,
      [[...new Set(checks.map((c) => streamId('revocation', c.userId)))]],
    );
    return checks.map(({ userId, clientId, issuedAt, family }) =>
      rows.some((r) => {
        if (r.stream_id !== streamId('revocation', userId)) return false;
        if (r.type === REFRESH_TOKEN_FAMILY_REVOKED) return family !== undefined && r.family === family;
        return new Date(r.occurred_at) > issuedAt && (r.client_id === null || r.client_id === clientId);
      }),
    );
  }
}
