import { Command } from 'commander';
import type { CommandGroup } from '../context';
import type { ApiClient } from '../api';
import { CliError, EXIT, usageError } from '../errors';
import { printJson, table } from '../output';
import { canPrompt, confirm } from '../prompt';
import { collectPages, positiveInteger, utcDateTime } from './pages';

interface RefreshToken {
  pkid: string;
  refreshtokenindex: string;
  userid: string | null;
  clientid: string;
  validity: string;
  state: string;
  issuedAt: string;
  lastUsedAt: string | null;
  revokedReason: string | null;
}

interface Revoked {
  userId: string;
  clientId: string | null;
  revoked: number;
  revokedAt: string;
}

const LIST_HELP = `
Like CUCM's
  run sql select pkid,refreshtokenindex,userid,clientid,dbinfo('utc_to_datetime',validity) as validity,state from refreshtokendetails
with the index (the token's SHA-256 hash; the token itself is never stored). Newest first.
States: active, expired (active, past its validity), rotated (used once, with rotation on), revoked.

Examples:
  authz tokens list --user jsmith
  authz tokens list --user jsmith --client jabber --state active --all`;

const REVOKE_HELP = `
The seed's "https://<server>/ssosp/token/revoke?user_id=xyz&client_id=abc": every refresh token
of the user (only those of one client, i.e. one device type, with --client) issued before now
stops working at once on every node. Tokens issued afterwards work. Access tokens already
issued stay valid until they expire.

On a terminal you are asked to confirm; elsewhere --yes is required.

Examples:
  authz tokens revoke --user jsmith --client jabber
  authz tokens revoke --user jsmith --yes`;

async function revoke(api: ApiClient, user: string, client: string | undefined): Promise<Revoked> {
  const query = { user_id: user, client_id: client };
  return (await api.request<Revoked>('POST', 'ssosp/token/revoke', { query })).body;
}

/** `authz tokens list|revoke`: refreshtokendetails (seed S11) and admin revocation (seed S12). */
export const tokens: CommandGroup = (program, ctx) => {
  const group = program.command('tokens').description("list and revoke users' refresh tokens");

  group
    .command('list')
    .description('list refresh tokens from refreshtokendetails, newest first')
    .option('--user <userId>', 'only this user')
    .option('--client <clientId>', 'only this client')
    .option('--state <state>', 'active, expired, rotated or revoked')
    .option('--limit <n>', 'at most this many (default 50)', positiveInteger, 50)
    .option('--all', 'every matching token, page by page')
    .option('--json', 'print JSON')
    .addHelpText('after', LIST_HELP)
    .action(async (options: { user?: string; client?: string; state?: string; limit: number; all?: boolean; json?: boolean }, command: Command) => {
      const query = { user_id: options.user, client_id: options.client, state: options.state };
      const { items, more } = await collectPages<RefreshToken>(ctx.api(command), 'admin/refresh-tokens', 'tokens', query, options.limit, options.all === true);
      if (options.json) return printJson(ctx.io, items);
      if (items.length === 0) return ctx.io.stdout('No refresh tokens.\n');
      ctx.io.stdout(
        table(
          items.map((t) => [t.pkid, t.refreshtokenindex.slice(0, 16) + '…', t.userid ?? '-', t.clientid, utcDateTime(t.validity), t.state, t.lastUsedAt ? utcDateTime(t.lastUsedAt) : '-']),
          ['pkid', 'refreshtokenindex', 'userid', 'clientid', 'validity (UTC)', 'state', 'last used (UTC)'],
        ),
      );
      if (more) ctx.io.stdout(`(more: add --all, or a larger --limit)\n`);
    });

  group
    .command('revoke')
    .description("revoke a user's refresh tokens, or those of one client, on every node at once")
    .requiredOption('--user <userId>', 'the user')
    .option('--client <clientId>', 'only the tokens of this client (device)')
    .option('-y, --yes', 'do not ask for confirmation (required without a terminal)')
    .option('--json', 'print the raw JSON answer')
    .addHelpText('after', REVOKE_HELP)
    .action(async (options: { user: string; client?: string; yes?: boolean; json?: boolean }, command: Command) => {
      const { io } = ctx;
      const scope = `user "${options.user}"${options.client ? ` on client "${options.client}"` : ''}`;
      if (!options.yes) {
        if (!canPrompt(io)) throw usageError(`not revoking the refresh tokens of ${scope} without confirmation`, 'there is no terminal to ask on: add --yes to confirm');
        if (!(await confirm(io, `Revoke every refresh token of ${scope}? [y/N] `))) throw new CliError('cancelled: nothing was revoked', EXIT.refused);
      }
      const body = await revoke(ctx.api(command), options.user, options.client);
      if (options.json) return printJson(io, body);
      io.stdout(`Revoked ${body.revoked} refresh token${body.revoked === 1 ? '' : 's'} of ${scope} (at ${utcDateTime(body.revokedAt)} UTC).\n`);
    });
};
