import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { COMMAND_GROUPS } from './commands/index';
import { DEFAULT_TIMEOUT_SECONDS, DEFAULT_URL } from './connection';
import { cliContext } from './context';
import { CliError, EXIT } from './errors';
import type { Io } from './io';

const ENVIRONMENT_AND_EXIT_CODES = `
Connection (options win over the environment):
  AUTHZ_URL                      the server (default ${DEFAULT_URL})
  AUTHZ_ADMIN_USER               the account (default admin)
  AUTHZ_ADMIN_PASSWORD           its password, or
  AUTHZ_ADMIN_PASSWORD_FILE      a file holding it
  Without a password, "admin" on a local server uses the embedded server's
  $AUTHZ_DATA_DIR/admin-password (default ./.authz-data/admin-password);
  on a terminal you are asked.

Exit status:
  0  done            1  the server said no, is not healthy, or keys differ
  2  usage error     3  cannot reach the server
  4  authentication failed (401) or not allowed (403)`;

/** The package's version, from the package.json above this file (src/ or dist/). */
function version(): string {
  for (let dir = new URL('.', import.meta.url), i = 0; i < 6; i++, dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'authz' && pkg.version) return pkg.version;
    } catch {
      // not here: one level up
    }
  }
  return 'unknown';
}

function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n <= 0) throw new InvalidArgumentError('a number of seconds is expected.');
  return n;
}

export function buildProgram(io: Io): Command {
  const program = new Command('authz')
    .description('Administer an authz server (OAuth 2.0 AuthZ service) through its admin HTTP API.')
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .addOption(new Option('--url <url>', `the server (default: $AUTHZ_URL or ${DEFAULT_URL})`))
    .addOption(new Option('-u, --admin-user <name>', 'admin account (default: $AUTHZ_ADMIN_USER or admin)'))
    .addOption(new Option('--password <password>', 'its password (visible to other local users: prefer --password-file)'))
    .addOption(new Option('--password-file <path>', 'a file holding the password (default: $AUTHZ_ADMIN_PASSWORD_FILE)'))
    .addOption(new Option('--timeout <seconds>', 'how long to wait for the server').argParser(seconds).default(DEFAULT_TIMEOUT_SECONDS))
    .addHelpText('after', ENVIRONMENT_AND_EXIT_CODES)
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .showHelpAfterError()
    .exitOverride();
  const ctx = cliContext(io);
  for (const group of COMMAND_GROUPS) group(program, ctx);
  return program;
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Runs one command line (without node and the script) and answers the exit status. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  let running: Command | undefined;
  program.hook('preAction', (_program, action) => {
    running = action;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed the help or the error already; --help and --version exit 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      io.stderr(`error: ${error.message}\n`);
      if (error.hint) io.stderr(`  ${error.hint}\n`);
      else if (error.exitCode === EXIT.usage && running) io.stderr(`  see "${commandPath(running)} --help"\n`);
      return error.exitCode;
    }
    io.stderr(`error: ${(error as Error)?.message ?? String(error)}\n`);
    return EXIT.refused;
  }
}
