import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { ROOT } from './infra';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `authz` as an operator runs it: a real process of the committed launcher and the built
 * dist/, with nothing of the test runner's environment but what an operator would set.
 */
export function runAuthz(args: string[], options: { env: Record<string, string>; cwd?: string; stdin?: string }): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [resolve(ROOT, 'apps/authz-cli/bin/authz.js'), ...args], {
      cwd: options.cwd ?? ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}
