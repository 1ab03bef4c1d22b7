import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface Server {
  name: string;
  url: string;
  port: number;
  process: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/** Spawns `node [nodeFlags] <entry>` from the repository root and waits until GET <readyPath> answers 200. */
export async function startServer(
  name: string,
  entry: string,
  port: number,
  env: Record<string, string>,
  readyPath: string,
  nodeFlags: string[] = [],
): Promise<Server> {
  const child = spawn(process.execPath, [...nodeFlags, resolve(ROOT, entry)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output = (output + d).slice(-50_000)));
  child.stderr!.on('data', (d) => (output = (output + d).slice(-50_000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const server: Server = {
    name,
    url,
    port,
    process: child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killed);
    },
  };
  for (const deadline = Date.now() + 90_000; ; await new Promise((r) => setTimeout(r, 200))) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited before it was ready:\n${output}`);
    if ((await fetch(`${url}${readyPath}`).then((r) => r.status, () => 0)) === 200) return server;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`${name} was not ready after 90 s:\n${output}`);
    }
  }
}
