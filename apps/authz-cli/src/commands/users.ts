import { Command, Option } from 'commander';
import type { CommandGroup } from '../context';
import { usageError } from '../errors';
import { readAll, stripLineBreak, type Io } from '../io';
import { printJson } from '../output';
import { canPrompt, promptSecret } from '../prompt';

const ROLES_HELP = `
Roles:
  (none)       an end user: signs in at /oauth/authorize (code or implicit flow), nothing else
  admin        everything under /admin
  key-reader   read the public signing and encryption keys

Examples:
  authz users add alice                                          # an end user; asks for the password
  authz users add reader --role key-reader
  printf %s "$PASSWORD" | authz users add ops --role admin --password-stdin`;

function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((r) => r.trim()).filter(Boolean)];
}

async function newPassword(io: Io, userId: string, fromStdin: boolean): Promise<string> {
  if (fromStdin) {
    const password = stripLineBreak(await readAll(io.stdin));
    if (!password) throw usageError('--password-stdin: stdin is empty');
    return password;
  }
  if (!canPrompt(io)) {
    throw usageError('no password for the new user', 'pipe it with --password-stdin, or run the command on a terminal to be asked');
  }
  const password = await promptSecret(io, `Password for the new user "${userId}": `);
  if (password !== (await promptSecret(io, 'The same password again: '))) throw usageError('the passwords differ');
  return password;
}

/** `authz users add`: local accounts (/admin/users). */
export const users: CommandGroup = (program, ctx) => {
  const group = program.command('users').description('manage local accounts');

  group
    .command('add')
    .description('create a local account: an end user, or with --role an administrator or a resource server')
    .argument('<userId>', 'the account name: letters, digits and . _ @ -')
    .addOption(new Option('--role <role>', 'a role to grant (repeat, or separate with commas)').argParser(collect).default([], 'none: an end user'))
    .option('--password-stdin', "read the new account's password from stdin (else you are asked, on a terminal)")
    .option('--json', 'print the raw JSON answer')
    .addHelpText('after', ROLES_HELP)
    .action(async (userId: string, options: { role: string[]; passwordStdin?: boolean; json?: boolean }, command: Command) => {
      const password = await newPassword(ctx.io, userId, options.passwordStdin === true);
      const { body } = await ctx.api(command).post<{ userId: string; roles: string[] }>('admin/users', {
        userId,
        password,
        roles: options.role,
      });
      if (options.json) return printJson(ctx.io, body);
      if (body.roles.length === 0) {
        ctx.io.stdout(`Created end user "${body.userId}" (no role: signs in at /oauth/authorize, no admin or key access).\n`);
      } else {
        ctx.io.stdout(`Created user "${body.userId}" with the role${body.roles.length === 1 ? '' : 's'} ${body.roles.join(', ')}.\n`);
      }
    });
};
