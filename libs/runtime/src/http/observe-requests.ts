import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Log } from '../log';
import type { Metrics } from '../metrics/metrics';
import { acceptCorrelationId, withCorrelationId } from './correlation';

/** The route's pattern (`/admin/clients/:clientId`), never the URL: no id, token or query in a label or log line. */
function routeOf(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : 'unmatched';
}

/**
 * The first middleware of an app: gives each request a correlation id (the caller's
 * X-Correlation-Id when well formed, else a new one), echoes it in the response, runs the rest
 * of the request with it (log lines carry it; `res.locals.correlationId` gives it to the
 * events), and when the response is done records its latency and logs one access line:
 * method, route, status, duration and correlation id; never the query, a header or the body.
 */
export function observeRequests(metrics: Metrics, log: Log): RequestHandler {
  const duration = metrics.histogram({
    name: 'authz_http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
  });
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const correlationId = acceptCorrelationId(req.header('x-correlation-id'));
    res.locals.correlationId = correlationId;
    res.setHeader('X-Correlation-Id', correlationId);
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(req);
      // A client that went away before the answer was sent: nginx's 499, so it is not taken for a success.
      const status = res.writableFinished ? res.statusCode : 499;
      duration.observe({ method: req.method, route, status }, seconds);
      log('info', `${req.method} ${route} ${status} ${Math.round(seconds * 1000)} ms`, {
        method: req.method,
        route,
        status,
        durationMs: Math.round(seconds * 10_000) / 10,
        correlationId,
      });
    });
    withCorrelationId(correlationId, next);
  };
}

