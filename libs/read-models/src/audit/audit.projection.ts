import type { EntityManager } from 'typeorm';
import { STREAM_CATEGORIES, type EventEnvelope } from '@authz/contracts';
import type { AuditEntry, AuditFilter, AuditReadModel, Page } from '@authz/application';
import type { Database } from '@authz/event-store';
import type { Projection } from '../projection';
import { auditFacts } from './audit-summary';

/**
 * The audit history: one row per event of every stream. Rows are numbered (`seq`) under a
 * table lock held to commit, so sequence order is commit order and a reader paging by `seq`
 * never skips a row committed behind its cursor, which event positions cannot promise.
 * Readers are not blocked: SHARE ROW EXCLUSIVE only excludes other writers.
 */
export class AuditProjection implements Projection {
  readonly name = 'audit';
  readonly categories = STREAM_CATEGORIES;

  async apply(manager: EntityManager, event: EventEnvelope): Promise<void> {
    await this.applyNew(manager, [event]);
  }

  /**
   * One statement for the batch, rows numbered in the batch's order. A row per position: an
   * event delivered again is skipped here, so the runner records no stream versions for the audit.
   */
  async applyNew(manager: EntityManager, events: readonly EventEnvelope[]): Promise<number[]> {
    if (events.length === 0) return [];
    await manager.query('LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE');
    const columns = events.map((event) => {
      const facts = auditFacts(event);
      return [event.position, event.eventId, event.occurredAt, event.type, event.actor, facts.userId, facts.clientId, facts.tokenId, event.nodeId, event.correlationId, facts.summary];
    });
    const column = (i: number) => columns.map((row) => row[i]);
    const inserted: { position: string }[] = await manager.query(
      `INSERT INTO audit_events (position, event_id, occurred_at, type, actor, user_id, client_id, token_id, node_id, correlation_id, summary)
       SELECT position, event_id, occurred_at, type, actor, user_id, client_id, token_id, node_id, correlation_id, summary
         FROM unnest($1::bigint[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
              WITH ORDINALITY AS e (position, event_id, occurred_at, type, actor, user_id, client_id, token_id, node_id, correlation_id, summary, n)
        ORDER BY n
       ON CONFLICT (position) DO NOTHING
       RETURNING position`,
      Array.from({ length: 11 }, (_, i) => column(i)),
    );
    return inserted.map((row) => Number(row.position));
  }

  async clear(manager: EntityManager): Promise<void> {
    await manager.query('DELETE FROM audit_events');
  }
}

interface Row {
  seq: string;
  position: string;
  occurred_at: Date;
  type: string;
  actor: string;
  user_id: string | null;
  client_id: string | null;
  token_id: string | null;
  node_id: string;
  correlation_id: string;
  summary: string;
}

export class PostgresAuditReadModel implements AuditReadModel {
  constructor(private readonly db: Database) {}

  async list(filter: AuditFilter, before: number | undefined, limit: number): Promise<Page<AuditEntry>> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      conditions.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.userId !== undefined) add('user_id = ?', filter.userId);
    if (filter.clientId !== undefined) add('client_id = ?', filter.clientId);
    if (filter.type !== undefined) add('type = ?', filter.type);
    if (filter.since !== undefined) add('occurred_at >= ?', filter.since.toISOString());
    if (filter.until !== undefined) add('occurred_at <= ?', filter.until.toISOString());
    if (before !== undefined) add('seq < ?', before);
    params.push(limit + 1);
    const rows = await this.db.query<Row>(
      `SELECT * FROM audit_events ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, limit).map((r) => ({
      seq: Number(r.seq),
      position: Number(r.position),
      occurredAt: new Date(r.occurred_at).toISOString(),
      type: r.type,
      actor: r.actor,
      userId: r.user_id,
      clientId: r.client_id,
      tokenId: r.token_id,
      nodeId: r.node_id,
      correlationId: r.correlation_id,
      summary: r.summary,
    }));
    return { items, next: rows.length > limit ? Number(rows[limit - 1].seq) : null };
  }
}
