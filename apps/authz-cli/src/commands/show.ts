import { Command } from 'commander';
import type { CommandGroup } from '../context';
import { CliError, EXIT } from '../errors';
import { capitalized, keyKindOf, withKeyKindArguments, type KeyInfo, type KeyKind, type KeyRingAnswer } from '../keys';
import { printJson, table } from '../output';

const SHOW_KEY_HELP = `
The key itself never leaves the server: its hash (SHA-256 fingerprint) identifies it.
Like "show key authz signing" on CUCM; compare every node at once with "authz cluster keys".

Examples:
  authz show key signing
  authz show key authz signing                       # CUCM's word order works too
  authz show key encryption --json | jq -r .fingerprint`;

/** One key of the ring, and what the node that answered holds of that kind. */
export interface ShownKey extends KeyInfo {
  kind: KeyKind;
  clusterId: string | null;
  /** null: the server does not say (an older one). */
  node: { nodeId: string; fingerprint: string | null; matches: boolean } | null;
}

export function shownKey(kind: KeyKind, body: KeyRingAnswer): ShownKey {
  const key = body[kind];
  if (!key) throw new CliError(`the key ring has no ${kind} key yet`, EXIT.refused, 'the server creates both keys when it first starts: is it fully up?');
  const held = body.node ? (body.node[kind] ?? null) : undefined;
  return {
    kind,
    clusterId: body.clusterId,
    kid: key.kid,
    fingerprint: key.fingerprint,
    createdAt: key.createdAt,
    node: body.node ? { nodeId: body.node.nodeId, fingerprint: held ?? null, matches: held === key.fingerprint } : null,
  };
}

/** The lines of `show key <kind>`. */
export function describeKey(key: ShownKey): string {
  let node = 'unknown (the server does not say)';
  if (key.node) {
    node = !key.node.fingerprint
      ? `${key.node.nodeId} holds no ${key.kind} key yet`
      : key.node.matches
        ? `${key.node.nodeId} holds the same key`
        : `${key.node.nodeId} holds a DIFFERENT key: ${key.node.fingerprint}`;
  }
  const rows = [
    ['  Hash:', key.fingerprint],
    ['  Key id (kid):', key.kid],
    ['  Created:', key.createdAt],
    ['  Cluster:', key.clusterId ?? '-'],
    ['  This node:', node],
  ];
  let text = `Authz ${key.kind} key\n${table(rows)}`;
  if (key.node && !key.node.matches) {
    text += `\n${capitalized(key.kind)} keys differ: compare every node with "authz cluster keys".\n`;
  }
  return text;
}

/** `authz show …`: CUCM's `show` commands; for now `show key signing|encryption` (GET /admin/keys). */
export const show: CommandGroup = (program, ctx) => {
  const group = program.command('show').description('show the cluster\'s keys (as CUCM\'s "show key authz …")');

  withKeyKindArguments(group.command('key'))
    .description("show the cluster's signing or encryption key as a hash, and whether the node that answers holds it")
    .option('--json', 'print the key as JSON: kind, kid, fingerprint, createdAt, clusterId, node')
    .addHelpText('after', SHOW_KEY_HELP)
    .action(async (first: string, second: string | undefined, options: { json?: boolean }, command: Command) => {
      const kind = keyKindOf(command, first, second);
      const { body } = await ctx.api(command).get<KeyRingAnswer>('admin/keys');
      const key = shownKey(kind, body);
      if (options.json) return printJson(ctx.io, key);
      ctx.io.stdout(describeKey(key));
    });
};
