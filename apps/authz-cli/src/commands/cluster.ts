import { Command } from 'commander';
import type { CommandGroup } from '../context';
import { CliError, EXIT } from '../errors';
import { KEY_KINDS, short, type ClusterKeysAnswer, type NodeKeys } from '../keys';
import { printJson, table } from '../output';

const CLUSTER_KEYS_HELP = `
Every node reports the keys it holds; each is compared with the cluster's key ring (the
event store). A key marked * differs from the ring's: its node has not caught up with a
regeneration yet, does not receive the cluster's events (is it running?), or cannot unwrap
the new key (another AUTHZ_KEK): its log says which.

Exit status 0 when every node holds the ring's keys, 1 otherwise (or when no node has
reported yet), so that a script can alert:
  authz cluster keys >/dev/null || echo "authz keys differ between nodes"`;

/** "12 s ago", "3 min ago", …: how long ago a node last reported, from this machine's clock. */
export function ago(iso: string, now = Date.now()): string {
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (!Number.isFinite(seconds)) return '';
  if (seconds < 0) return 'in the future: clocks differ';
  if (seconds < 120) return `${seconds} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} days ago`;
}

function cell(node: NodeKeys, kind: (typeof KEY_KINDS)[number], full: boolean): string {
  const key = node.keys[kind];
  if (!key) return 'none *';
  const text = full ? key.fingerprint : short(key.fingerprint);
  return key.matches ? text : `${text} *`;
}

export function clusterKeysTable(body: ClusterKeysAnswer, options: { full?: boolean; now?: number } = {}): string {
  const full = options.full === true;
  const ring = body.keyRing;
  const fingerprint = (kind: (typeof KEY_KINDS)[number]) => {
    const key = ring[kind];
    return key ? (full ? key.fingerprint : short(key.fingerprint)) : 'none';
  };
  let text = `Key ring of cluster ${ring.clusterId ?? '-'}: signing ${fingerprint('signing')}, encryption ${fingerprint('encryption')}\n\n`;
  if (body.nodes.length === 0) return text + 'No node has reported its keys yet.\n';
  const rows = body.nodes.map((node) => [
    node.nodeId,
    cell(node, 'signing', full),
    cell(node, 'encryption', full),
    node.matches ? 'yes' : 'NO',
    `${node.lastSeen} (${ago(node.lastSeen, options.now)})`,
  ]);
  text += table(rows, ['Node', 'Signing', 'Encryption', 'Match', 'Last seen']);
  const stale = body.nodes.filter((n) => !n.matches);
  text +=
    stale.length === 0
      ? body.nodes.length === 1
        ? `\nThe one node holds the key ring's keys.\n`
        : `\nAll ${body.nodes.length} nodes hold the key ring's keys.\n`
      : `\n* differs from the key ring. ${stale.length} of ${body.nodes.length} node${body.nodes.length === 1 ? '' : 's'} ` +
        `hold${stale.length === 1 ? 's' : ''} another key: ${stale.map((n) => n.nodeId).join(', ')}.\n`;
  return text;
}

/** `authz cluster …`: the cluster as a whole; for now `cluster keys` (GET /admin/cluster/keys). */
export const cluster: CommandGroup = (program, ctx) => {
  const group = program.command('cluster').description('compare the nodes of the cluster');

  group
    .command('keys')
    .description("compare the signing and encryption keys every node holds with the cluster's key ring; exit 1 on a mismatch")
    .option('--full', 'print whole fingerprints, not their first 16 hex digits')
    .option('--json', 'print the raw JSON answer (whole fingerprints)')
    .addHelpText('after', CLUSTER_KEYS_HELP)
    .action(async (options: { full?: boolean; json?: boolean }, command: Command) => {
      const { body } = await ctx.api(command).get<ClusterKeysAnswer>('admin/cluster/keys');
      if (options.json) printJson(ctx.io, body);
      else ctx.io.stdout(clusterKeysTable(body, { full: options.full }));
      if (body.nodes.length === 0) throw new CliError('no node has reported its keys yet', EXIT.refused);
      const stale = body.nodes.filter((n) => !n.matches).map((n) => n.nodeId);
      if (!body.allMatch || stale.length > 0) {
        throw new CliError(
          stale.length > 0
            ? `the keys differ: ${stale.join(', ')} ${stale.length === 1 ? 'does' : 'do'} not hold the key ring's keys`
            : 'the server reports that the keys differ between nodes',
          EXIT.refused,
          'a node that lags behind a regeneration catches up by itself; if one stays stale, see its log: does it receive the cluster\'s events, does it have the same AUTHZ_KEK?',
        );
      }
    });
};
