import { randomUUID } from 'node:crypto';
import type { RequestContext } from '@authz/application';
import type { AuthenticatedRequest } from './admin.guard';

export function requestContext(req: AuthenticatedRequest): RequestContext {
  return {
    actor: req.principal ? `user:${req.principal.userId}` : 'anonymous',
    correlationId: req.correlationId || randomUUID(),
    sourceAddress: req.ip,
  };
}
