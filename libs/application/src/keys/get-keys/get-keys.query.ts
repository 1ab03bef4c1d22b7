import { Query } from '@nestjs/cqrs';
import type { KeyKind } from '@authz/contracts';
import type { KeyInfo } from '../key-ring-stream';

export interface KeyRingView {
  clusterId: string | null;
  signing: KeyInfo | null;
  encryption: KeyInfo | null;
}

export interface NodeKeysView {
  nodeId: string;
  lastSeen: string;
  keys: Record<KeyKind, { kid: string; fingerprint: string; matches: boolean } | null>;
  matches: boolean;
}

export interface ClusterKeysView {
  keyRing: KeyRingView;
  nodes: NodeKeysView[];
  allMatch: boolean;
}

/** The key ring as the event store holds it: the reference every node is compared with. */
export class GetKeyRingQuery extends Query<KeyRingView> {}

export class GetClusterKeysQuery extends Query<ClusterKeysView> {}
