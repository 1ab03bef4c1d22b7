import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { RequestContext } from '@authz/application';
import type { AuthenticatedRequest } from './admin.guard';

const CORRELATION_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Takes the caller's X-Correlation-Id when it is sane, else makes one; echoes it back. */
export function correlationId(req: Request, res: Response, next: NextFunction): void {
  const given = req.header('x-correlation-id');
  const id = given && CORRELATION_ID.test(given) ? given : randomUUID();
  res.locals.correlationId = id;
  res.setHeader('X-Correlation-Id', id);
  next();
}

export function requestContext(req: AuthenticatedRequest): RequestContext {
  return {
    actor: req.principal ? `user:${req.principal.userId}` : 'anonymous',
    correlationId: (req.res?.locals.correlationId as string | undefined) ?? randomUUID(),
    sourceAddress: req.ip,
  };
}
