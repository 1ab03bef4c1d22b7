import { Command } from '@nestjs/cqrs';
import type { RequestContext } from '../../ports';
import type { PurgeSummary } from './expired-token-purge';

/** An operator's purge of expired refresh tokens (POST /admin/purge, `authz purge`). */
export class PurgeExpiredTokensCommand extends Command<PurgeSummary> {
  constructor(
    /** This run's cap, unvalidated: a whole number from 1 to MAX_PURGE_ROWS, or undefined. */
    readonly maxRows: unknown,
    readonly context: RequestContext,
  ) {
    super();
  }
}
