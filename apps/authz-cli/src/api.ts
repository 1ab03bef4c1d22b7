import { randomUUID } from 'node:crypto';
import { displayUrl, type Connection, type Credentials } from './connection';
import { CliError, EXIT } from './errors';

/** The server's error body (libs/runtime http-errors): OAuth-style error and a human description. */
export interface ServerError {
  error?: string;
  error_description?: string;
  code?: string;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  /** Send the admin credentials (default true). */
  auth?: boolean;
  /** Statuses besides 2xx that the caller handles itself (e.g. 503 from /health). */
  accept?: number[];
}

export interface ApiResponse<T> {
  status: number;
  body: T;
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'the connection broke',
};

function networkReason(error: unknown, timeoutMs: number): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  const code = e?.cause?.code;
  if (code && NETWORK_REASONS[code]) return NETWORK_REASONS[code];
  return e?.cause?.message ?? e?.message ?? String(error);
}

function describe(body: unknown, status: number, statusText: string): string {
  const error = (typeof body === 'object' && body !== null ? body : {}) as ServerError;
  if (typeof error.error_description === 'string' && error.error_description) return error.error_description;
  if (typeof error.error === 'string' && error.error) return error.error;
  return `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
}

/**
 * The one way commands talk to the server: JSON over HTTP with Basic credentials, every
 * failure turned into a CliError with the right exit code and the server's own message.
 */
export class ApiClient {
  /** Sent as X-Correlation-Id, which the server copies into the events this command causes. */
  readonly correlationId = `cli-${randomUUID()}`;

  constructor(
    readonly connection: Connection,
    private readonly fetchFn: typeof fetch = globalThis.fetch,
  ) {}

  get url(): string {
    return displayUrl(this.connection.baseUrl);
  }

  get<T>(path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    return this.request<T>('GET', path, options);
  }

  put<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    return this.request<T>('PUT', path, { ...options, body });
  }

  post<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    return this.request<T>('POST', path, { ...options, body });
  }

  delete<T>(path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    return this.request<T>('DELETE', path, options);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const url = new URL(path.replace(/^\/+/, ''), this.connection.baseUrl);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'authz-cli',
      'x-correlation-id': this.correlationId,
    };
    const credentials = options.auth === false ? undefined : await this.connection.credentials();
    if (credentials) {
      headers.authorization = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
    }
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }

    let response: Response;
    let text: string;
    try {
      response = await this.fetchFn(url, {
        method,
        headers,
        body: payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.connection.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new CliError(`cannot reach the server at ${this.url}: ${networkReason(error, this.connection.timeoutMs)}`, EXIT.unreachable, 'check --url (or AUTHZ_URL) and that the server runs');
    }

    let body: unknown = text;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON (a proxy's error page, say): keep the text
      }
    }
    const ok = (response.status >= 200 && response.status < 300) || options.accept?.includes(response.status);
    if (!ok) throw this.failure(method, url, response, body, credentials);
    if (typeof body === 'string' && text) {
      throw new CliError(`the server at ${this.url} answered ${method} ${url.pathname} with something that is not JSON; is --url an authz server?`, EXIT.refused);
    }
    return { status: response.status, body: body as T };
  }

  private failure(method: string, url: URL, response: Response, body: unknown, credentials: Credentials | undefined): CliError {
    const message = describe(body, response.status, response.statusText);
    if (response.status === 401) {
      return credentials
        ? new CliError(`authentication failed as "${credentials.user}" (password from ${credentials.source}): ${message}`, EXIT.auth)
        : new CliError(
            `authentication required: ${message}`,
            EXIT.auth,
            'give --admin-user and --password-file (or AUTHZ_ADMIN_USER and AUTHZ_ADMIN_PASSWORD)',
          );
    }
    if (response.status === 403) {
      return new CliError(`"${credentials?.user ?? 'anonymous'}" is not allowed to do this: ${message}`, EXIT.auth);
    }
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location');
      return new CliError(`the server redirects ${method} ${url.pathname}${location ? ` to ${location}` : ''}: use that URL as --url`, EXIT.refused);
    }
    if (response.status === 404 && (typeof body === 'string' || /^Cannot [A-Z]+ \//.test(message))) {
      return new CliError(`${method} ${url.pathname} is not found at ${this.url}: is --url an authz server, and is it recent enough?`, EXIT.refused);
    }
    if (response.status >= 500) {
      return new CliError(`the server failed (HTTP ${response.status}): ${message} (correlation id ${this.correlationId})`, EXIT.refused);
    }
    return new CliError(message, EXIT.refused);
  }
}
