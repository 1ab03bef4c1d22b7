import type { KeyKind } from '@authz/contracts';
import type { NewKey } from '@authz/domain';

/** Makes new key material and hands back only its wrapped (KEK-encrypted) form. */
export interface KeyFactory {
  generate(kind: KeyKind, clusterId: string): Promise<NewKey>;
}

export interface NodeKeyFingerprints {
  nodeId: string;
  kind: KeyKind;
  kid: string;
  fingerprint: string;
  lastSeen: string;
}

/** What each node reports it holds in its key cache. */
export interface NodeKeysReadModel {
  all(): Promise<NodeKeyFingerprints[]>;
}

export const KEY_FACTORY = Symbol('KeyFactory');
export const NODE_KEYS_READ_MODEL = Symbol('NodeKeysReadModel');
