import { Command } from 'commander';
import type { CommandGroup } from '../context';
import { CliError, EXIT, usageError } from '../errors';
import { keyKindArgument, type KeyKind, type KeyRingAnswer, type RegeneratedKey } from '../keys';
import { printJson, table } from '../output';
import { canPrompt, confirm } from '../prompt';

/** What regenerating a key does, said before it is done. */
export function regenWarning(kind: KeyKind): string {
  return (
    `Regenerating the ${kind} key invalidates every access token issued under the current one, on every\n` +
    `node, at once: users and services (Jabber, voicemail, …) are refused until they get new tokens.\n` +
    `Do it only if you believe the key has been compromised.\n`
  );
}

const REGEN_HELP = `
Like "set key regen authz signing" on CUCM, except that no service needs a restart: every
node takes the new key through the cluster's events (check with "authz cluster keys").

Every access token issued under the old key stops working at once. On a terminal you are
asked to confirm; elsewhere (scripts, pipes) --yes is required.

Examples:
  authz set key regen encryption
  authz set key regen signing --yes`;

/** `authz set …`: CUCM's `set` commands; for now `set key regen signing|encryption`. */
export const set: CommandGroup = (program, ctx) => {
  const group = program.command('set').description('change the cluster\'s keys (as CUCM\'s "set key regen authz …")');
  const key = group.command('key').description('regenerate the signing or encryption key');

  key
    .command('regen')
    .description('regenerate the signing or encryption key: every access token issued under the old one stops working')
    .addArgument(keyKindArgument())
    .option('-y, --yes', 'do not ask for confirmation (required without a terminal)')
    .option('--json', 'print the raw JSON answer')
    .addHelpText('after', REGEN_HELP)
    .action(async (kind: KeyKind, options: { yes?: boolean; json?: boolean }, command: Command) => {
      const { io } = ctx;
      if (!options.yes && !canPrompt(io)) {
        throw usageError(
          `not regenerating the ${kind} key without confirmation: every access token issued under the current key would stop working`,
          'there is no terminal to ask on: add --yes to confirm',
        );
      }
      const api = ctx.api(command);
      if (!options.yes) {
        const { body } = await api.get<KeyRingAnswer>('admin/keys');
        const current = body[kind];
        io.stderr(regenWarning(kind));
        if (current) io.stderr(`Current ${kind} key: ${current.fingerprint} (created ${current.createdAt})\n`);
        if (!(await confirm(io, `Regenerate the ${kind} key? [y/N] `))) {
          throw new CliError(`cancelled: the ${kind} key is unchanged`, EXIT.refused);
        }
      }
      const { body } = await api.post<RegeneratedKey>(`admin/keys/${kind}/regenerate`, undefined);
      if (options.json) return printJson(io, body);
      io.stdout(`Regenerated the ${kind} key.\n`);
      io.stdout(
        table([
          ['  Hash:', body.fingerprint],
          ['  Key id (kid):', body.kid],
          ['  Created:', body.createdAt],
        ]),
      );
      io.stdout(
        `\nAccess tokens issued under the old ${kind} key are now rejected. The other nodes follow through the\n` +
          `cluster's events (event position ${body.position}): check them with "authz cluster keys".\n`,
      );
    });
};
