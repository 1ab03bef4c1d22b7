import { Argument } from 'commander';

/** The two keys of the cluster's key ring (seed S6). */
export const KEY_KINDS = ['signing', 'encryption'] as const;
export type KeyKind = (typeof KEY_KINDS)[number];

/** The `<kind>` argument of the key commands: signing or encryption, anything else a usage error. */
export function keyKindArgument(): Argument {
  return new Argument('<kind>', 'which key').choices(KEY_KINDS);
}

/** A key of the ring as GET /admin/keys and GET /admin/cluster/keys show it: never the key itself. */
export interface KeyInfo {
  kid: string;
  fingerprint: string;
  createdAt: string;
}

/** GET /admin/keys */
export interface KeyRingAnswer {
  clusterId: string | null;
  signing: KeyInfo | null;
  encryption: KeyInfo | null;
  /** What the node that answered holds: the fingerprints of its keys. */
  node?: { nodeId: string; signing: string | null; encryption: string | null };
}

/** POST /admin/keys/:kind/regenerate */
export interface RegeneratedKey extends KeyInfo {
  kind: KeyKind;
  position: number;
  /** Whether the regeneration also revoked every refresh token issued before it (absent: an older server, no). */
  revokeRefreshTokens?: boolean;
}

export interface NodeKeys {
  nodeId: string;
  lastSeen: string;
  keys: Record<KeyKind, { kid: string; fingerprint: string; matches: boolean } | null>;
  matches: boolean;
}

/** GET /admin/cluster/keys */
export interface ClusterKeysAnswer {
  keyRing: { clusterId: string | null; signing: KeyInfo | null; encryption: KeyInfo | null };
  nodes: NodeKeys[];
  allMatch: boolean;
}

export const capitalized = (kind: KeyKind) => kind[0].toUpperCase() + kind.slice(1);

/** A fingerprint cut for a table: 16 hex digits are plenty to tell keys apart by eye. */
export const short = (fingerprint: string) => fingerprint.slice(0, 16);
