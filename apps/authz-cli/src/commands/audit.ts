import { Command } from 'commander';
import type { CommandGroup } from '../context';
import { printJson, table } from '../output';
import { collectPages, positiveInteger, utcDateTime } from './pages';

interface AuditEvent {
  occurredAt: string;
  type: string;
  actor: string;
  userId: string | null;
  clientId: string | null;
  nodeId: string;
  correlationId: string;
  summary: string;
}

const AUDIT_HELP = `
Every event of the cluster, newest first: sign-ins, tokens issued, refreshed and revoked,
admin revocations, key regenerations, parameter changes, purges and replays.

Examples:
  authz audit --user jsmith --since 2026-11-01
  authz audit --type RefreshTokensRevoked --all
  authz audit --client jabber --since 2026-11-23T00:00:00Z --until 2026-11-23T12:00:00Z --json`;

/** `authz audit`: the audit history (/admin/audit). */
export const audit: CommandGroup = (program, ctx) => {
  program
    .command('audit')
    .description('show the audit history, newest first')
    .option('--user <userId>', 'only events about this user')
    .option('--client <clientId>', 'only events about this client')
    .option('--type <eventType>', 'only events of this type, e.g. TokenRevoked')
    .option('--since <date>', 'from this ISO 8601 date or date-time')
    .option('--until <date>', 'up to this ISO 8601 date or date-time')
    .option('--limit <n>', 'at most this many (default 50)', positiveInteger, 50)
    .option('--all', 'every matching event, page by page')
    .option('--json', 'print JSON')
    .addHelpText('after', AUDIT_HELP)
    .action(async (options: { user?: string; client?: string; type?: string; since?: string; until?: string; limit: number; all?: boolean; json?: boolean }, command: Command) => {
      const query = { user_id: options.user, client_id: options.client, type: options.type, since: options.since, until: options.until };
      const { items, more } = await collectPages<AuditEvent>(ctx.api(command), 'admin/audit', 'events', query, options.limit, options.all === true);
      if (options.json) return printJson(ctx.io, items);
      if (items.length === 0) return ctx.io.stdout('No events.\n');
      ctx.io.stdout(table(items.map((e) => [utcDateTime(e.occurredAt), e.type, e.actor, e.summary]), ['time (UTC)', 'type', 'actor', 'what']));
      if (more) ctx.io.stdout(`(more: add --all, or a larger --limit)\n`);
    });
};
