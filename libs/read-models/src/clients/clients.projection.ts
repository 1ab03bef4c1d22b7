import type { EntityManager } from 'typeorm';
import { CLIENT_REGISTERED, type ClientRegisteredV1, type EventEnvelope } from '@authz/contracts';
import type { ClientView, ClientsReadModel } from '@authz/application';
import type { Database } from '@authz/event-store';
import type { Projection } from '../projection';

/** The registered clients, for admins (never a secret: there is none in the events). */
export class ClientsProjection implements Projection {
  readonly name = 'clients';
  readonly categories = ['client'] as const;

  async apply(manager: EntityManager, event: EventEnvelope): Promise<void> {
    if (event.type !== CLIENT_REGISTERED) return;
    const c = event.data as ClientRegisteredV1;
    await manager.query(
      `INSERT INTO clients (client_id, client_name, type, redirect_uris, grant_types, scope, created_at, created_by, position)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [c.clientId, c.clientName, c.type, JSON.stringify(c.redirectUris), JSON.stringify(c.grantTypes), c.scope, event.occurredAt, event.actor, event.position],
    );
  }

  async clear(manager: EntityManager): Promise<void> {
    await manager.query('DELETE FROM clients');
  }
}

interface ClientRow {
  client_id: string;
  client_name: string;
  type: ClientView['type'];
  redirect_uris: string[];
  grant_types: ClientView['grantTypes'];
  scope: string;
  created_at: Date;
  created_by: string;
}

export class PostgresClientsReadModel implements ClientsReadModel {
  constructor(private readonly db: Database) {}

  async list(after: string | undefined, limit: number): Promise<ClientView[]> {
    const rows = await this.db.query<ClientRow>(
      `SELECT client_id, client_name, type, redirect_uris, grant_types, scope, created_at, created_by
         FROM clients WHERE client_id > $1 ORDER BY client_id LIMIT $2`,
      [after ?? '', limit],
    );
    return rows.map((r) => ({
      clientId: r.client_id,
      clientName: r.client_name,
      type: r.type,
      redirectUris: r.redirect_uris,
      grantTypes: r.grant_types,
      scope: r.scope,
      createdAt: new Date(r.created_at).toISOString(),
      createdBy: r.created_by,
    }));
  }
}
