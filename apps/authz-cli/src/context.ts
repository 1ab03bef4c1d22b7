import type { Command } from 'commander';
import { ApiClient } from './api';
import { connection, type GlobalOptions } from './connection';
import type { Io } from './io';

/** What a command group gets: the outside world, and an API client for the options it was run with. */
export interface CliContext {
  io: Io;
  /** A client for the server and credentials named by the global options (read at first request). */
  api(command: Command): ApiClient;
}

/**
 * A command group (`params`, `users`, later `tokens`, `keys`, …): adds its commands to the
 * program. Each lives in commands/<group>.ts and is listed once in commands/index.ts.
 */
export type CommandGroup = (program: Command, ctx: CliContext) => void;

export function cliContext(io: Io): CliContext {
  return {
    io,
    api: (command) => new ApiClient(connection(command.optsWithGlobals<GlobalOptions>(), io), io.fetch),
  };
}
