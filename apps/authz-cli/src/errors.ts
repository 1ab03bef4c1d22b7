/** The exit codes of `authz`, documented in its help. */
export const EXIT = {
  ok: 0,
  /** The server answered no (a validation error, a conflict) or is not healthy. */
  refused: 1,
  /** The command line is wrong: unknown command or option, malformed argument. */
  usage: 2,
  /** The server could not be reached (refused, unknown host, timeout, TLS). */
  unreachable: 3,
  /** The server did not accept the credentials (401) or their role (403). */
  auth: 4,
  /** Ctrl-C at a prompt. */
  interrupted: 130,
} as const;

/** An error meant for the user: printed as one line on stderr (plus a hint), never with a stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function usageError(message: string, hint?: string): CliError {
  return new CliError(message, EXIT.usage, hint);
}
