import type { KeyKind } from '@authz/contracts';
import type { NodeKeyFingerprints, NodeKeysReadModel } from '@authz/application';
import type { Database } from '@authz/event-store';

export class PostgresNodeKeysReadModel implements NodeKeysReadModel {
  constructor(private readonly db: Database) {}

  async all(): Promise<NodeKeyFingerprints[]> {
    const rows = await this.db.query<{ node_id: string; kind: KeyKind; kid: string; fingerprint: string; last_seen: Date }>(
      'SELECT node_id, kind, kid, fingerprint, last_seen FROM node_key_fingerprints ORDER BY node_id, kind',
    );
    return rows.map((r) => ({ nodeId: r.node_id, kind: r.kind, kid: r.kid, fingerprint: r.fingerprint, lastSeen: new Date(r.last_seen).toISOString() }));
  }
}
