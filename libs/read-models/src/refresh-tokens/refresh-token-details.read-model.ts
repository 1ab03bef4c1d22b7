import type { Page, RefreshTokenDetailsReadModel, RefreshTokenFilter, RefreshTokenState, RefreshTokenView } from '@authz/application';
import type { Database } from '@authz/event-store';

interface Row {
  pkid: string;
  refreshtokenindex: string;
  userid: string | null;
  clientid: string;
  validity: Date;
  state: 'active' | 'rotated' | 'revoked';
  scope: string;
  grant_type: string;
  family: string;
  issued_at: Date;
  issued_position: string;
  last_used_at: Date | null;
  revoked_at: Date | null;
  revoked_reason: string | null;
  node_id: string;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

// `expired` is an active row past its validity: the clock decides it, not an event.
const STATE_CONDITION: Record<RefreshTokenState, string> = {
  active: `state = 'active' AND validity > now()`,
  expired: `state = 'active' AND validity <= now()`,
  rotated: `state = 'rotated'`,
  revoked: `state = 'revoked'`,
};

export class PostgresRefreshTokenDetailsReadModel implements RefreshTokenDetailsReadModel {
  constructor(private readonly db: Database) {}

  async list(filter: RefreshTokenFilter, before: number | undefined, limit: number): Promise<Page<RefreshTokenView>> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      conditions.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.userId !== undefined) add('userid = ?', filter.userId);
    if (filter.clientId !== undefined) add('clientid = ?', filter.clientId);
    if (before !== undefined) add('issued_position < ?', before);
    if (filter.state) conditions.push(STATE_CONDITION[filter.state]);
    params.push(limit + 1);
    const rows = await this.db.query<Row>(
      `SELECT * FROM refreshtokendetails ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''}
        ORDER BY issued_position DESC LIMIT $${params.length}`,
      params,
    );
    const now = Date.now();
    const items = rows.slice(0, limit).map((r) => ({
      pkid: r.pkid,
      refreshtokenindex: r.refreshtokenindex,
      userid: r.userid,
      clientid: r.clientid,
      validity: iso(r.validity)!,
      state: r.state === 'active' && new Date(r.validity).getTime() <= now ? ('expired' as const) : r.state,
      scope: r.scope,
      grantType: r.grant_type,
      family: r.family,
      issuedAt: iso(r.issued_at)!,
      lastUsedAt: iso(r.last_used_at),
      revokedAt: iso(r.revoked_at),
      revokedReason: r.revoked_reason,
      nodeId: r.node_id,
    }));
    const next = rows.length > limit ? Number(rows[limit - 1].issued_position) : null;
    return { items, next };
  }
}
