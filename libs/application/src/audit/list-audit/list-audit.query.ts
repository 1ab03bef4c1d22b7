import type { AuditEntry } from '../../ports';

/** Admin query over the audit history: the raw query parameters, validated by the handler. */
export class ListAuditQuery {
  constructor(readonly params: Record<string, unknown>) {}
}

export interface AuditPage {
  events: AuditEntry[];
  nextCursor: string | null;
}
