import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { CURRENT_SCHEMA_VERSIONS } from '@authz/contracts';
import { ValidationError, parseClientId, parseUserId } from '@authz/domain';
import { AUDIT_READ_MODEL, type AuditReadModel } from '../../ports';
import { parseInstant } from '../../instant';
import { decodeCursor, encodeCursor, parseLimit, single } from '../../paging';
import { ListAuditQuery, type AuditPage } from './list-audit.query';

/** Newest first; the cursor is a sequence number, so concurrent writes never shift a page. */
@QueryHandler(ListAuditQuery)
export class ListAuditHandler implements IQueryHandler<ListAuditQuery> {
  constructor(@Inject(AUDIT_READ_MODEL) private readonly audit: AuditReadModel) {}

  async execute({ params }: ListAuditQuery): Promise<AuditPage> {
    const user = single(params.user_id, 'user_id');
    const client = single(params.client_id, 'client_id');
    const type = single(params.type, 'type');
    if (type !== undefined && CURRENT_SCHEMA_VERSIONS[type] === undefined) {
      throw new ValidationError('INVALID_TYPE', `type must be an event type, one of ${Object.keys(CURRENT_SCHEMA_VERSIONS).join(', ')}`);
    }
    const since = parseInstant(single(params.since, 'since'), 'since');
    const until = parseInstant(single(params.until, 'until'), 'until');
    if (since && until && since > until) throw new ValidationError('INVALID_RANGE', 'since must not be after until');
    const filter = {
      userId: user === undefined ? undefined : parseUserId(user),
      clientId: client === undefined ? undefined : parseClientId(client, 'client_id'),
      type,
      since,
      until,
    };
    const page = await this.audit.list(filter, decodeCursor(single(params.cursor, 'cursor')), parseLimit(single(params.limit, 'limit')));
    return { events: page.items, nextCursor: encodeCursor(page.next) };
  }
}
