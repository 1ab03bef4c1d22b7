import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Log } from '../log';
import type { Metrics } from '../metrics/metrics';
import { acceptCorrelationId } from './correlation';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's correlation id: in its events, its log lines and the X-Correlation-Id header. */
    correlationId: string;
  }
}

/** The route's pattern (`/admin/clients/:clientId`), never the URL: no id, token or query in a label or log line. */
function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched';
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? undefined : value;
}

/**
 * Gives each request a correlation id (the caller's X-Correlation-Id when well formed, else a
 * new one), echoes it in the response, hands it to the handlers as `request.correlationId` (for
 * the events and the log lines the request causes), and when the response is done records its
 * latency and logs one access line: method, route, status, duration and correlation id; never
 * the query, a header or the body.
 */
export function observeRequests(app: FastifyInstance, metrics: Metrics, log: Log): void {
  const duration = metrics.histogram({
    name: 'authz_http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
  });
  app.decorateRequest('correlationId', '');
  app.addHook('onRequest', (request, reply, done) => {
    const started = process.hrtime.bigint();
    const correlationId = acceptCorrelationId(header(request.headers['x-correlation-id']));
    request.correlationId = correlationId;
    reply.header('X-Correlation-Id', correlationId);
    reply.raw.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(request);
      // A client that went away before the answer was sent: nginx's 499, so it is not taken for a success.
      const status = reply.raw.writableFinished ? reply.statusCode : 499;
      duration.observe({ method: request.method, route, status }, seconds);
      log('info', `${request.method} ${route} ${status} ${Math.round(seconds * 1000)} ms`, {
        method: request.method,
        route,
        status,
        durationMs: Math.round(seconds * 10_000) / 10,
        correlationId,
      });
    });
    done();
  });
}
