import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { KEY_KINDS, type KeyKind } from '@authz/contracts';
import { EVENT_STORE, NODE_KEYS_READ_MODEL, type EventStore, type NodeKeysReadModel } from '../../ports';
import { keyInfo, loadKeyRing } from '../key-ring-stream';
import { GetClusterKeysQuery, GetKeyRingQuery, type KeyRingView, type NodeKeysView } from './get-keys.query';

@QueryHandler(GetKeyRingQuery)
export class GetKeyRingHandler implements IQueryHandler<GetKeyRingQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute(): Promise<KeyRingView> {
    const { ring, events } = await loadKeyRing(this.store);
    return { clusterId: ring.clusterId ?? null, signing: keyInfo(events, 'signing'), encryption: keyInfo(events, 'encryption') };
  }
}

/** Seed S8: compares what each node holds with the key ring, to find the node with a stale key. */
@QueryHandler(GetClusterKeysQuery)
export class GetClusterKeysHandler implements IQueryHandler<GetClusterKeysQuery> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(NODE_KEYS_READ_MODEL) private readonly nodeKeys: NodeKeysReadModel,
  ) {}

  async execute() {
    const keyRing = await new GetKeyRingHandler(this.store).execute();
    const byNode = new Map<string, NodeKeysView>();
    for (const row of await this.nodeKeys.all()) {
      const node = byNode.get(row.nodeId) ?? { nodeId: row.nodeId, lastSeen: row.lastSeen, keys: { signing: null, encryption: null }, matches: true };
      node.keys[row.kind] = { kid: row.kid, fingerprint: row.fingerprint, matches: row.fingerprint === keyRing[row.kind]?.fingerprint };
      if (row.lastSeen > node.lastSeen) node.lastSeen = row.lastSeen;
      byNode.set(row.nodeId, node);
    }
    const nodes = [...byNode.values()].sort((a, b) => a.nodeId.localeCompare(b.nodeId));
    for (const node of nodes) node.matches = KEY_KINDS.every((kind: KeyKind) => node.keys[kind]?.matches === true);
    return { keyRing, nodes, allMatch: nodes.every((n) => n.matches) };
  }
}
