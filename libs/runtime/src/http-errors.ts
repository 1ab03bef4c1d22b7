import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, NotFoundError, ValidationError } from '@authz/domain';
import { ConcurrencyError, OAuthError, ThrottledError } from '@authz/application';
import type { Log } from './runtime';

export interface ErrorBody {
  error: string;
  error_description: string;
  code?: string;
  details?: Record<string, unknown>;
}

const OAUTH_ERROR_BY_STATUS: Record<number, string> = {
  400: 'invalid_request',
  401: 'invalid_client',
  403: 'access_denied',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'invalid_request',
  415: 'invalid_request',
  429: 'too_many_requests',
  503: 'temporarily_unavailable',
};

function errorName(status: number): string {
  return OAUTH_ERROR_BY_STATUS[status] ?? (status >= 500 ? 'server_error' : 'invalid_request');
}

/**
 * Fastify's own errors while it reads a body (they reach the filter as the cause of an
 * HttpException): described in the server's words, not the framework's.
 */
function bodyError(cause: unknown): string | undefined {
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string' || !code.startsWith('FST_ERR_CTP_')) return undefined;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 'the body is too large';
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'the body is not valid JSON (a JSON object is expected)';
  return 'the request body could not be read';
}

/** Maps an error to a status and a body; never lets a stack trace or internal message out. */
export function describeError(exception: unknown): { status: number; body: ErrorBody } {
  if (exception instanceof ThrottledError) {
    return { status: 429, body: { error: 'too_many_requests', error_description: exception.message } };
  }
  if (exception instanceof OAuthError) {
    return { status: exception.status, body: { error: exception.error, error_description: exception.description } };
  }
  if (exception instanceof ValidationError) {
    return { status: 400, body: { error: 'invalid_request', error_description: exception.message, code: exception.code, details: exception.details } };
  }
  if (exception instanceof NotFoundError) {
    return { status: 404, body: { error: 'not_found', error_description: exception.message, code: exception.code } };
  }
  if (exception instanceof ConcurrencyError) {
    return { status: 409, body: { error: 'conflict', error_description: 'the resource changed meanwhile; try again', code: exception.code } };
  }
  if (exception instanceof DomainError) {
    return { status: 409, body: { error: 'conflict', error_description: exception.message, code: exception.code } };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const read = bodyError(exception.cause);
    if (read) return { status, body: { error: 'invalid_request', error_description: read } };
    const response = exception.getResponse();
    if (typeof response === 'object' && response !== null && 'error_description' in response) {
      return { status, body: response as ErrorBody };
    }
    return { status, body: { error: errorName(status), error_description: exception.message } };
  }
  return { status: 500, body: { error: 'server_error', error_description: 'internal error' } };
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly log: Log) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, body } = describeError(exception);
    if (exception instanceof OAuthError && status === 401) reply.header('WWW-Authenticate', 'Basic realm="authz"');
    if (exception instanceof ThrottledError) reply.header('Retry-After', String(exception.retryAfterSeconds));
    if (status >= 500) {
      const { correlationId } = host.switchToHttp().getRequest<FastifyRequest>();
      this.log('error', `unhandled error: ${(exception as Error)?.stack ?? String(exception)}`, { correlationId });
    }
    reply.code(status).send(body);
  }
}
