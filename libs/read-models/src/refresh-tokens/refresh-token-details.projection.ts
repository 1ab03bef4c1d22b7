import type { EntityManager } from 'typeorm';
import {
  KEY_REGENERATED,
  revokesRefreshTokens,
  REFRESH_TOKEN_FAMILY_REVOKED,
  REFRESH_TOKEN_ROTATED,
  REFRESH_TOKENS_PURGED,
  REFRESH_TOKENS_REVOKED,
  TOKEN_ISSUED,
  TOKEN_REFRESHED,
  TOKEN_REVOKED,
  type EventEnvelope,
  type RefreshTokenFamilyRevokedV1,
  type RefreshTokenRotatedV1,
  type RefreshTokensPurgedV1,
  type RefreshTokensRevokedV1,
  type TokenIssuedV1,
  type TokenRefreshedV1,
  type TokenRevokedV1,
} from '@authz/contracts';
import type { Projection } from '../projection';

/**
 * Grants and revocations come from different topics, applied in concurrent transactions: a
 * token inserted while a revocation that covers it is uncommitted would miss it, and the
 * revocation's update would miss the token. Both take this lock (one key: no deadlock).
 */
const REVOCATION_LOCK = 0x52544431;

/**
 * Seed S11's `refreshtokendetails`: one row per refresh token, keyed by its tid, holding its
 * hash (never the token). Events of one grant arrive in order; events of different streams
 * (a grant, its user's admin revocations, the purge) may not, so each rule holds whichever
 * comes first: a token projected after a revocation that covers it is stored revoked.
 */
export class RefreshTokenDetailsProjection implements Projection {
  readonly name = 'refreshtokendetails';
  readonly categories = ['grant', 'revocation', 'maintenance', 'keyring'] as const;

  /** One rule per event type it reads. */
  private readonly rules: Record<string, (manager: EntityManager, event: EventEnvelope) => Promise<void>> = {
    [TOKEN_ISSUED]: (manager, event) => this.issued(manager, [event as EventEnvelope<TokenIssuedV1>]),
    [TOKEN_REFRESHED]: (manager, event) => this.used(manager, new Map([[(event.data as TokenRefreshedV1).tid, { at: event.occurredAt, rotated: false }]])),
    [REFRESH_TOKEN_ROTATED]: async (manager, event) => {
      const { tid } = event.data as RefreshTokenRotatedV1;
      await manager.query(
        `UPDATE refreshtokendetails SET last_used_at = $2, state = CASE WHEN state = 'active' THEN 'rotated' ELSE state END WHERE pkid = $1`,
        [tid, event.occurredAt],
      );
    },
    [TOKEN_REVOKED]: async (manager, event) => {
      const { tid, reason } = event.data as TokenRevokedV1;
      await manager.query(
        `UPDATE refreshtokendetails SET state = 'revoked', revoked_at = $2, revoked_reason = $3 WHERE pkid = $1 AND state <> 'revoked'`,
        [tid, event.occurredAt, reason],
      );
    },
    [REFRESH_TOKENS_REVOKED]: (manager, event) => this.revokedByAdmin(manager, event as EventEnvelope<RefreshTokensRevokedV1>),
    [REFRESH_TOKEN_FAMILY_REVOKED]: (manager, event) => this.familyRevoked(manager, event as EventEnvelope<RefreshTokenFamilyRevokedV1>),
    [KEY_REGENERATED]: (manager, event) => this.revokedByKeyRegeneration(manager, event),
    [REFRESH_TOKENS_PURGED]: async (manager, event) => {
      // Live, the purge job deleted these rows already; in a rebuild, this deletes them again.
      const { through } = event.data as RefreshTokensPurgedV1;
      if (through) await manager.query('DELETE FROM refreshtokendetails WHERE validity <= $1', [through]);
    },
  };

  /** What no rule reads: other events of its categories, and the grants of access tokens alone. */
  ignores(event: EventEnvelope): boolean {
    if (event.type === TOKEN_ISSUED) return !(event.data as TokenIssuedV1).refreshToken;
    // Of the key ring, only a signing key regeneration that revoked refresh tokens changes rows.
    if (event.type === KEY_REGENERATED) return !revokesRefreshTokens(event.data);
    return !Object.hasOwn(this.rules, event.type);
  }

  /**
   * A refresh's last use in the stream of the access token it gave (which holds only it): the
   * rule is idempotent (the latest use wins), so the runner records no stream version for
   * the one-event streams of every refresh. Older refreshes, appended to the grant's stream,
   * are claimed as before.
   */
  idempotent(event: EventEnvelope): boolean {
    return event.type === TOKEN_REFRESHED && event.streamId !== `grant-${(event.data as TokenRefreshedV1).tid}`;
  }

  async apply(manager: EntityManager, event: EventEnvelope): Promise<void> {
    if (!this.ignores(event)) await this.rules[event.type](manager, event);
  }

  /**
   * The batch's refresh tokens in one INSERT first (every other event of a token comes after
   * its issue, and a revocation applied after the insert covers what it must), then the other
   * events in order, but for the last use of each refreshed or rotated token: one UPDATE for
   * them all, which no other event's order changes (a revocation wins whenever it comes, and
   * only an active token becomes rotated).
   */
  async applyBatch(manager: EntityManager, events: readonly EventEnvelope[]): Promise<void> {
    await this.issued(manager, events.filter((e) => e.type === TOKEN_ISSUED) as EventEnvelope<TokenIssuedV1>[]);
    const lastUse = new Map<string, { at: string; rotated: boolean }>();
    for (const event of events) {
      if (event.type === TOKEN_ISSUED) continue;
      if (event.type !== TOKEN_REFRESHED && event.type !== REFRESH_TOKEN_ROTATED) {
        await this.apply(manager, event);
        continue;
      }
      const { tid } = event.data as TokenRefreshedV1 | RefreshTokenRotatedV1;
      const known = lastUse.get(tid);
      const rotated = event.type === REFRESH_TOKEN_ROTATED || (known?.rotated ?? false);
      lastUse.set(tid, { at: known && known.at > event.occurredAt ? known.at : event.occurredAt, rotated });
    }
    await this.used(manager, lastUse);
  }

  /**
   * Last uses, and rotations, of tokens. A refresh is in the stream of the access token it
   * gave, which may be projected before the token's own issue: such a use is held until the
   * token comes (`issued` takes it), under the lock the insert takes, so neither misses it.
   */
  private async used(manager: EntityManager, lastUse: ReadonlyMap<string, { at: string; rotated: boolean }>): Promise<void> {
    if (lastUse.size === 0) return;
    const uses = [...lastUse.values()];
    const params = [[...lastUse.keys()], uses.map((u) => u.at), uses.map((u) => u.rotated)];
    // A SELECT over the UPDATE: TypeORM answers an UPDATE's RETURNING as [rows, count].
    const updated: { pkid: string }[] = await manager.query(
      `WITH updated AS (
         UPDATE refreshtokendetails r
            SET last_used_at = GREATEST(r.last_used_at, used.at),
                state = CASE WHEN used.rotated AND r.state = 'active' THEN 'rotated' ELSE r.state END
           FROM unnest($1::text[], $2::timestamptz[], $3::boolean[]) AS used (tid, at, rotated) WHERE r.pkid = used.tid
         RETURNING r.pkid)
       SELECT pkid FROM updated`,
      params,
    );
    if (updated.length === lastUse.size) return;
    await manager.query('SELECT pg_advisory_xact_lock($1)', [REVOCATION_LOCK]);
    await manager.query(
      `WITH used AS (SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::boolean[]) AS used (tid, at, rotated)),
       caught AS (
         UPDATE refreshtokendetails r SET last_used_at = GREATEST(r.last_used_at, used.at) FROM used
          WHERE r.pkid = used.tid AND NOT used.tid = ANY($4::text[]) RETURNING r.pkid)
       INSERT INTO refresh_token_early_uses (pkid, last_used_at)
       SELECT tid, at FROM used WHERE NOT rotated AND NOT tid = ANY($4::text[]) AND tid NOT IN (SELECT pkid FROM caught)
       ON CONFLICT (pkid) DO UPDATE SET last_used_at = GREATEST(refresh_token_early_uses.last_used_at, EXCLUDED.last_used_at)`,
      [...params, updated.map((u) => u.pkid)],
    );
  }

  async clear(manager: EntityManager): Promise<void> {
    await manager.query('DELETE FROM refreshtokendetails');
    await manager.query('DELETE FROM refresh_token_revocations');
    await manager.query('DELETE FROM refresh_token_key_revocations');
    await manager.query('DELETE FROM refresh_token_early_uses');
  }

  private async issued(manager: EntityManager, events: readonly EventEnvelope<TokenIssuedV1>[]): Promise<void> {
    const rows = events
      .filter((e) => e.data.refreshToken)
      .map(({ data: token, position, occurredAt, nodeId }) => [
        token.refreshToken!.tid,
        token.refreshToken!.hash,
        token.userId,
        token.clientId,
        token.refreshToken!.expiresAt,
        token.scope,
        token.grantType,
        token.family ?? token.refreshToken!.tid,
        token.parentTid ?? null,
        occurredAt,
        position,
        token.familyPosition ?? position,
        nodeId,
      ]);
    if (rows.length === 0) return;
    await manager.query('SELECT pg_advisory_xact_lock($1)', [REVOCATION_LOCK]);
    await manager.query(
      `INSERT INTO refreshtokendetails (pkid, refreshtokenindex, userid, clientid, validity, state, scope, grant_type, family,
                                        parent_pkid, issued_at, issued_position, family_position, node_id, revoked_at, revoked_reason, last_used_at)
       SELECT t.pkid, t.hash, t.userid, t.clientid, t.validity, CASE WHEN r.position IS NULL THEN 'active' ELSE 'revoked' END,
              t.scope, t.grant_type, t.family, t.parent, t.issued_at, t.issued_position, t.family_position, t.node_id,
              r.occurred_at, r.reason, early.last_used_at
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::text[],
                     $10::timestamptz[], $11::bigint[], $12::bigint[], $13::text[])
              AS t (pkid, hash, userid, clientid, validity, scope, grant_type, family, parent, issued_at, issued_position, family_position, node_id)
         LEFT JOIN LATERAL (
           SELECT position, occurred_at, reason FROM (
             SELECT position, occurred_at, 'admin' AS reason FROM refresh_token_revocations
              WHERE userid = t.userid AND family IS NULL AND position > t.family_position AND (clientid IS NULL OR clientid = t.clientid)
             UNION ALL
             SELECT position, occurred_at, 'reuse_detected' FROM refresh_token_revocations WHERE family = t.family
             UNION ALL
             SELECT position, occurred_at, 'key_regenerated' FROM refresh_token_key_revocations
              WHERE position > t.family_position AND t.validity > occurred_at) any_revocation
            ORDER BY position LIMIT 1) r ON true
         LEFT JOIN refresh_token_early_uses early ON early.pkid = t.pkid
       ON CONFLICT (pkid) DO NOTHING`,
      Array.from({ length: 13 }, (_, i) => rows.map((row) => row[i])),
    );
    await manager.query('DELETE FROM refresh_token_early_uses WHERE pkid = ANY($1::text[])', [rows.map((row) => row[0])]);
  }

  /**
   * A signing key regeneration with revokeRefreshTokens: every token whose family began before
   * it, and that had not expired by then, is revoked ('key_regenerated'); it is remembered, so
   * that a token projected later (another topic) is stored revoked. One UPDATE, however many
   * rows: a rare admin action.
   */
  private async revokedByKeyRegeneration(manager: EntityManager, event: EventEnvelope): Promise<void> {
    if (!revokesRefreshTokens(event.data)) return;
    await manager.query('SELECT pg_advisory_xact_lock($1)', [REVOCATION_LOCK]);
    await manager.query(
      `INSERT INTO refresh_token_key_revocations (position, occurred_at, actor, kid) VALUES ($1, $2, $3, $4) ON CONFLICT (position) DO NOTHING`,
      [event.position, event.occurredAt, event.actor, (event.data as { kid?: string }).kid ?? null],
    );
    await manager.query(
      `UPDATE refreshtokendetails SET state = 'revoked', revoked_at = $1, revoked_reason = 'key_regenerated'
        WHERE state IN ('active', 'rotated') AND family_position < $2 AND validity > $1`,
      [event.occurredAt, event.position],
    );
  }

  private async familyRevoked(manager: EntityManager, event: EventEnvelope<RefreshTokenFamilyRevokedV1>): Promise<void> {
    const { userId, clientId, family, reason } = event.data;
    await manager.query('SELECT pg_advisory_xact_lock($1)', [REVOCATION_LOCK]);
    await manager.query(
      `INSERT INTO refresh_token_revocations (position, userid, clientid, occurred_at, actor, family) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (position) DO NOTHING`,
      [event.position, userId, clientId, event.occurredAt, event.actor, family],
    );
    await manager.query(
      `UPDATE refreshtokendetails SET state = 'revoked', revoked_at = $2, revoked_reason = $3 WHERE family = $1 AND state <> 'revoked'`,
      [family, event.occurredAt, reason],
    );
  }

  private async revokedByAdmin(manager: EntityManager, event: EventEnvelope<RefreshTokensRevokedV1>): Promise<void> {
    const { userId, clientId } = event.data;
    await manager.query('SELECT pg_advisory_xact_lock($1)', [REVOCATION_LOCK]);
    await manager.query(
      `INSERT INTO refresh_token_revocations (position, userid, clientid, occurred_at, actor) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (position) DO NOTHING`,
      [event.position, userId, clientId, event.occurredAt, event.actor],
    );
    await manager.query(
      `UPDATE refreshtokendetails SET state = 'revoked', revoked_at = $3, revoked_reason = 'admin'
        WHERE userid = $1 AND ($2::text IS NULL OR clientid = $2::text) AND family_position < $4 AND state <> 'revoked'`,
      [userId, clientId, event.occurredAt, event.position],
    );
  }
}
