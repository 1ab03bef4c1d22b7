import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { CliError, EXIT, usageError } from './errors';
import { stripLineBreak, type Io } from './io';
import { canPrompt, promptSecret } from './prompt';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
export const DEFAULT_TIMEOUT_SECONDS = 30;

/** The options every command accepts (declared on the program, see cli.ts). */
export interface GlobalOptions {
  url?: string;
  adminUser?: string;
  password?: string;
  passwordFile?: string;
  timeout?: number;
}

export interface Credentials {
  user: string;
  password: string;
  /** Where the password came from, for error messages ("--password-file x", "AUTHZ_ADMIN_PASSWORD", …). */
  source: string;
}

export interface Connection {
  /** The server's base URL, always ending in '/'. */
  baseUrl: URL;
  timeoutMs: number;
  /** The admin credentials, worked out (and prompted for) on first use only; undefined: none. */
  credentials(): Promise<Credentials | undefined>;
}

export function resolveUrl(option: string | undefined, env: Io['env']): URL {
  const text = option ?? (env.AUTHZ_URL || DEFAULT_URL);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`not a URL: "${text}"`, 'give the server as --url http://host:port (or AUTHZ_URL)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`the server URL must be http:// or https://, not "${text}"`);
  }
  if (url.username || url.password) {
    throw usageError('put the credentials in --admin-user and --password-file (or AUTHZ_ADMIN_USER and AUTHZ_ADMIN_PASSWORD), not in the URL');
  }
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/** The URL as the user would write it: no trailing slash. */
export function displayUrl(url: URL): string {
  return url.href.replace(/\/$/, '');
}

function isLoopback(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || url.hostname.startsWith('127.');
}

function readPasswordFile(io: Io, path: string, what: string): string {
  const full = isAbsolute(path) ? path : resolve(io.cwd, path);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (error) {
    throw usageError(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const password = stripLineBreak(text);
  if (!password) throw usageError(`${what} ${path} is empty`);
  return password;
}

/**
 * The admin credentials, first found wins:
 *  user:     --admin-user, AUTHZ_ADMIN_USER, else "admin";
 *  password: --password, --password-file, AUTHZ_ADMIN_PASSWORD, AUTHZ_ADMIN_PASSWORD_FILE,
 *            then for "admin" on this machine the embedded server's generated
 *            $AUTHZ_DATA_DIR/admin-password (default ./.authz-data/admin-password),
 *            then a prompt when stdin is a terminal.
 * The generated file is never sent to a remote server: it belongs to the local one.
 */
export async function resolveCredentials(options: GlobalOptions, io: Io, baseUrl: URL): Promise<Credentials | undefined> {
  const { env } = io;
  const user = options.adminUser ?? (env.AUTHZ_ADMIN_USER || 'admin');
  if (options.password !== undefined) {
    if (!options.password) throw usageError('--password is empty');
    return { user, password: options.password, source: '--password' };
  }
  if (options.passwordFile !== undefined) {
    return { user, password: readPasswordFile(io, options.passwordFile, 'the password file'), source: `--password-file ${options.passwordFile}` };
  }
  if (env.AUTHZ_ADMIN_PASSWORD) return { user, password: env.AUTHZ_ADMIN_PASSWORD, source: 'AUTHZ_ADMIN_PASSWORD' };
  if (env.AUTHZ_ADMIN_PASSWORD_FILE) {
    const file = env.AUTHZ_ADMIN_PASSWORD_FILE;
    return { user, password: readPasswordFile(io, file, 'AUTHZ_ADMIN_PASSWORD_FILE'), source: `AUTHZ_ADMIN_PASSWORD_FILE ${file}` };
  }
  if (user === 'admin' && isLoopback(baseUrl)) {
    const file = join(env.AUTHZ_DATA_DIR || './.authz-data', 'admin-password');
    if (existsSync(resolve(io.cwd, file))) {
      return { user, password: readPasswordFile(io, file, 'the embedded server\'s password file'), source: file };
    }
  }
  if (canPrompt(io)) {
    const password = await promptSecret(io, `Password of "${user}" at ${displayUrl(baseUrl)}: `);
    if (!password) throw new CliError('no password given', EXIT.usage);
    return { user, password, source: 'the prompt' };
  }
  return undefined;
}

export function connection(options: GlobalOptions, io: Io): Connection {
  const baseUrl = resolveUrl(options.url, io.env);
  const timeoutMs = Math.round((options.timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000);
  let credentials: Promise<Credentials | undefined> | undefined;
  return {
    baseUrl,
    timeoutMs,
    credentials: () => (credentials ??= resolveCredentials(options, io, baseUrl)),
  };
}
