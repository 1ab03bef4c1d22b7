import { Command } from 'commander';
import type { CommandGroup } from '../context';
import { CliError, EXIT, usageError } from '../errors';
import { keyKindOf, withKeyKindArguments, type KeyKind, type KeyRingAnswer, type RegeneratedKey } from '../keys';
import { printJson, table } from '../output';
import { canPrompt, confirm } from '../prompt';

/** What regenerating a key does, to access and to refresh tokens, said before it is done. */
export function regenWarning(kind: KeyKind, revokeRefreshTokens = false): string {
  const access =
    `Regenerating the ${kind} key invalidates every access token issued under the current one, on every\n` +
    `node, at once: users and services (Jabber, voicemail, …) are refused until they get new tokens.\n`;
  let refresh: string;
  if (kind === 'encryption') {
    refresh =
      `Refresh tokens are not encrypted: they keep working, so clients that hold one get a new access\n` +
      `token without their users signing in again.\n`;
  } else if (revokeRefreshTokens) {
    refresh =
      `With --revoke-refresh-tokens, every refresh token issued before now is revoked too, on every node:\n` +
      `every user of every client (Jabber, mobile apps, …) has to sign in again.\n`;
  } else {
    refresh =
      `Refresh tokens keep working (they are checked by their stored hash, and the old public key still\n` +
      `verifies them until they expire): clients that hold one get a new access token, under the new key,\n` +
      `without their users signing in again. Add --revoke-refresh-tokens to revoke them too.\n`;
  }
  return `${access}${refresh}Do it only if you believe the key has been compromised.\n`;
}

const REGEN_HELP = `
Like "set key regen authz signing" on CUCM, except that no service needs a restart: every
node takes the new key through the cluster's events (check with "authz cluster keys").

Every access token issued under the old key stops working at once. Refresh tokens keep
working (signing: the old public key still verifies them until they expire; encryption:
they are not encrypted), so clients get new access tokens without their users signing in
again. With --revoke-refresh-tokens (signing only) every refresh token issued before the
regeneration is revoked too: everyone signs in again. On a terminal you are asked to
confirm; elsewhere (scripts, pipes) --yes is required.

Examples:
  authz set key regen encryption
  authz set key regen authz encryption                # CUCM's word order works too
  authz set key regen signing --yes
  authz set key regen signing --revoke-refresh-tokens --yes`;

/** `authz set …`: CUCM's `set` commands; for now `set key regen signing|encryption`. */
export const set: CommandGroup = (program, ctx) => {
  const group = program.command('set').description('change the cluster\'s keys (as CUCM\'s "set key regen authz …")');
  const key = group.command('key').description('regenerate the signing or encryption key');

  withKeyKindArguments(key.command('regen'))
    .description('regenerate the signing or encryption key: every access token issued under the old one stops working')
    .option('--revoke-refresh-tokens', 'signing only: also revoke every refresh token issued before the regeneration (everyone signs in again)')
    .option('-y, --yes', 'do not ask for confirmation (required without a terminal)')
    .option('--json', 'print the raw JSON answer')
    .addHelpText('after', REGEN_HELP)
    .action(async (first: string, second: string | undefined, options: { yes?: boolean; json?: boolean; revokeRefreshTokens?: boolean }, command: Command) => {
      const kind: KeyKind = keyKindOf(command, first, second);
      const { io } = ctx;
      const revoke = options.revokeRefreshTokens === true;
      if (revoke && kind !== 'signing') {
        throw usageError(
          '--revoke-refresh-tokens applies to the signing key only: refresh tokens are signed, not encrypted',
          'an encryption key regeneration leaves refresh tokens working',
        );
      }
      if (!options.yes && !canPrompt(io)) {
        throw usageError(
          `not regenerating the ${kind} key without confirmation: every access token issued under the current key would stop working` +
            (revoke ? ', and every refresh token issued before now would be revoked' : ''),
          'there is no terminal to ask on: add --yes to confirm',
        );
      }
      const api = ctx.api(command);
      if (!options.yes) {
        const { body } = await api.get<KeyRingAnswer>('admin/keys');
        const current = body[kind];
        io.stderr(regenWarning(kind, revoke));
        if (current) io.stderr(`Current ${kind} key: ${current.fingerprint} (created ${current.createdAt})\n`);
        if (!(await confirm(io, `Regenerate the ${kind} key? [y/N] `))) {
          throw new CliError(`cancelled: the ${kind} key is unchanged`, EXIT.refused);
        }
      }
      // Without the flag, no body: the request any server version understands.
      const { body } = await api.post<RegeneratedKey>(`admin/keys/${kind}/regenerate`, revoke ? { revokeRefreshTokens: true } : undefined);
      if (revoke && body.revokeRefreshTokens !== true) {
        throw new CliError(
          `the ${kind} key was regenerated (${body.fingerprint}), but the server did not confirm revokeRefreshTokens: refresh tokens were NOT revoked (an older server?)`,
          EXIT.refused,
        );
      }
      if (options.json) return printJson(io, body);
      io.stdout(`Regenerated the ${kind} key.\n`);
      io.stdout(
        table([
          ['  Hash:', body.fingerprint],
          ['  Key id (kid):', body.kid],
          ['  Created:', body.createdAt],
        ]),
      );
      const refresh =
        kind === 'encryption'
          ? 'Refresh tokens are not encrypted: they still work.'
          : body.revokeRefreshTokens === true
            ? 'Every refresh token issued before it is revoked: their users sign in again.'
            : 'Refresh tokens still work: the old public key verifies them until they expire.';
      io.stdout(
        `\nAccess tokens issued under the old ${kind} key are now rejected. ${refresh}\nThe other nodes follow through the ` +
          `cluster's events (event position ${body.position}): check them with "authz cluster keys".\n`,
      );
    });
};
