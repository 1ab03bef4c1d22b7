import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { CliError, EXIT } from './errors';
import type { Io } from './io';

export function canPrompt(io: Io): boolean {
  return io.stdin.isTTY === true;
}

/** Asks for a secret on the terminal without echoing it. */
export async function promptSecret(io: Io, question: string): Promise<string> {
  io.stderr(question);
  // readline puts the terminal in raw mode and echoes to `output`: a sink keeps the secret off the screen.
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: io.stdin, output: sink, terminal: true });
  try {
    return await new Promise<string>((resolve, reject) => {
      rl.on('SIGINT', () => reject(new CliError('interrupted', EXIT.interrupted)));
      rl.on('close', () => reject(new CliError('no answer at the prompt', EXIT.usage)));
      rl.question('', resolve);
    });
  } finally {
    rl.close();
    io.stderr('\n');
  }
}

/**
 * Asks a yes/no question on the terminal (the answer is echoed); true only for y or yes.
 * Ctrl-D is a no, Ctrl-C exits 130.
 */
export async function confirm(io: Io, question: string): Promise<boolean> {
  const output = new Writable({
    write: (chunk, _encoding, done) => {
      io.stderr(String(chunk));
      done();
    },
  });
  const rl = createInterface({ input: io.stdin, output, terminal: true });
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      rl.on('SIGINT', () => reject(new CliError('interrupted', EXIT.interrupted)));
      rl.on('close', () => resolve(''));
      rl.question(question, resolve);
    });
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}
