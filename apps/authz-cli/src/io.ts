/** Everything the CLI touches outside itself, so that tests can run it in-process. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** stderr is a terminal: progress may redraw one line there. */
  stderrIsTTY?: boolean;
  env: Record<string, string | undefined>;
  cwd: string;
  fetch: typeof fetch;
}

export function processIo(): Io {
  // `authz … | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    stdin: process.stdin,
    stderrIsTTY: process.stderr.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
    fetch: globalThis.fetch,
  };
}

/** Reads all of stdin as text (for --password-stdin). */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** A secret as it comes from a file or a pipe: one trailing line break is not part of it. */
export function stripLineBreak(text: string): string {
  return text.replace(/\r?\n$/, '');
}
