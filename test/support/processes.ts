import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { ROOT, waitFor } from './infra';

export interface Node {
  url: string;
  process: ChildProcess;
  output: () => string;
  /** Sends a signal and waits for the process to exit. */
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

const ENTRY = {
  server: 'dist/apps/authz-server/src/main.js',
  projector: 'dist/apps/projector/src/main.js',
};

/** Starts the built server or projector as a real process and waits until /health answers 200. */
export async function startNode(kind: keyof typeof ENTRY, env: Record<string, string>, args: string[] = []): Promise<Node> {
  const port = Number(env.AUTHZ_PORT ?? (await freePort()));
  const child = spawn(process.execPath, [resolve(ROOT, ENTRY[kind]), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, AUTHZ_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const node: Node = {
    url,
    process: child,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
  try {
    await Promise.race([
      waitFor(async () => (await fetch(`${url}/health`)).status === 200, 90_000, `${kind} on ${url}`),
      exited.then(() => {
        throw new Error(`${kind} exited with ${child.exitCode ?? child.signalCode} before it was ready`);
      }),
    ]);
  } catch (error) {
    await node.stop('SIGKILL');
    throw new Error(`${(error as Error).message}\n${output}`);
  }
  return node;
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

export async function api(
  url: string,
  options: { method?: string; auth?: string; body?: unknown; rawBody?: string; contentType?: string } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (options.auth) headers.authorization = options.auth;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const response = await fetch(url, { method: options.method ?? 'GET', headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed, headers: response.headers };
}
