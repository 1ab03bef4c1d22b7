import type { Command } from 'commander';

/** The two keys of the cluster's key ring (seed S6). */
export const KEY_KINDS = ['signing', 'encryption'] as const;
export type KeyKind = (typeof KEY_KINDS)[number];

const CUCM_SERVICE = 'authz';

/**
 * The arguments of `show key` and `set key regen`: the kind (`show key signing`), or CUCM's own
 * word order with the service first (`show key authz signing`, `set key regen authz encryption`).
 * The action gets both words; keyKindOf tells the kind.
 */
export function withKeyKindArguments(command: Command): Command {
  return command
    .argument('<kind>', `which key: ${KEY_KINDS.join(' or ')} (or, in CUCM's word order, "${CUCM_SERVICE} signing", "${CUCM_SERVICE} encryption")`)
    .argument('[kind-after-authz]', `the kind, after "${CUCM_SERVICE}"`)
    .usage(`[options] [${CUCM_SERVICE}] <${KEY_KINDS.join('|')}>`);
}

/** The kind the words of withKeyKindArguments name; anything else is a usage error in Commander's words. */
export function keyKindOf(command: Command, first: string, second: string | undefined): KeyKind {
  const invalid = (value: string) =>
    command.error(`error: command-argument value '${value}' is invalid for argument 'kind'. Allowed choices are ${KEY_KINDS.join(', ')}.`, {
      code: 'commander.invalidArgument',
    });
  const isKind = (value: string): value is KeyKind => (KEY_KINDS as readonly string[]).includes(value);
  if (first === CUCM_SERVICE) {
    if (second === undefined) return invalid(first);
    return isKind(second) ? second : invalid(second);
  }
  if (!isKind(first)) return invalid(first);
  if (second !== undefined) {
    return command.error(`error: too many arguments for '${command.name()}'. Expected the kind, or "${CUCM_SERVICE}" and the kind, but got ${first} ${second}.`, {
      code: 'commander.excessArguments',
    });
  }
  return first;
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
