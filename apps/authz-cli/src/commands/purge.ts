import { Command, InvalidArgumentError } from 'commander';
import { ApiClient } from '../api';
import type { CommandGroup } from '../context';
import { printJson, table } from '../output';

/** POST /admin/purge's answer. */
export interface PurgeAnswer {
  count: number;
  batches: number;
  cutoff: string;
  through: string | null;
  capped: boolean;
  durationMs: number;
  largestBatch?: number;
  position?: number | null;
}

/** A run of a million rows takes a minute or so: more than the usual --timeout. */
const PURGE_TIMEOUT_SECONDS = 600;

const PURGE_HELP = `
Deletes the refresh tokens whose validity has passed from the refreshtokendetails table, now,
as the daily run does (AUTHZ_PURGE_AT, 02:00 UTC by default). The server deletes them in small
batches (AUTHZ_PURGE_BATCH_SIZE) with a pause between them, so that token requests keep being
served, and stops at a cap (AUTHZ_PURGE_MAX_ROWS, or --max-rows): run it again for the rest.
Each run is recorded as a RefreshTokensPurged event.

Only one node purges at a time: if another is purging, nothing is done and the exit status is 1.
The command waits for the run to finish: up to --timeout, ${PURGE_TIMEOUT_SECONDS} s unless given.

Examples:
  authz purge
  authz purge --max-rows 100000 --json`;

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('a whole number of rows, at least 1, is expected.');
  }
  return Number(value);
}

const count = (n: number) => n.toLocaleString('en-US');

export function purgeSummary(body: PurgeAnswer): string {
  const seconds = (body.durationMs / 1000).toFixed(1);
  let text =
    body.count === 0
      ? `No expired refresh tokens to purge (${body.batches} batch${body.batches === 1 ? '' : 'es'}, ${seconds} s).\n`
      : `Purged ${count(body.count)} expired refresh token${body.count === 1 ? '' : 's'} in ${count(body.batches)} batch${body.batches === 1 ? '' : 'es'}` +
        `${body.largestBatch === undefined ? '' : ` (at most ${count(body.largestBatch)} rows each)`} in ${seconds} s.\n`;
  const rows = [['  Cutoff:', `${body.cutoff} (refresh tokens that expired before this)`]];
  if (body.through) rows.push(['  Through:', `${body.through} (the last validity deleted)`]);
  if (body.position !== undefined && body.position !== null) rows.push(['  Recorded:', `RefreshTokensPurged event at position ${body.position}`]);
  text += table(rows);
  if (body.capped) text += '\nThe run stopped at its cap with expired tokens left: run "authz purge" again, or let the daily run take them.\n';
  return text;
}

/** `authz purge`: the purge of expired refresh tokens, on demand (POST /admin/purge). */
export const purge: CommandGroup = (program, ctx) => {
  program
    .command('purge')
    .description('delete expired refresh tokens now, in batches, as the daily purge does; exit 1 if another node is purging')
    .option('--max-rows <n>', 'delete at most this many rows in this run (default: the server\'s AUTHZ_PURGE_MAX_ROWS)', positiveInteger)
    .option('--json', 'print the raw JSON answer')
    .addHelpText('after', PURGE_HELP)
    .action(async (options: { maxRows?: number; json?: boolean }, command: Command) => {
      let api = ctx.api(command);
      if (command.getOptionValueSourceWithGlobals('timeout') === 'default') {
        api = new ApiClient({ ...api.connection, timeoutMs: PURGE_TIMEOUT_SECONDS * 1000 }, ctx.io.fetch);
      }
      const { body } = await api.post<PurgeAnswer>('admin/purge', options.maxRows === undefined ? undefined : { maxRows: options.maxRows });
      if (options.json) printJson(ctx.io, body);
      else ctx.io.stdout(purgeSummary(body));
    });
};
