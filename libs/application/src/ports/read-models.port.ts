import type { EnterpriseParameterValues } from '@authz/contracts';

export interface ParametersView {
  values: EnterpriseParameterValues;
  updatedAt: string | null;
  updatedBy: string | null;
  /** Position of the last event the projection applied: how fresh this answer is. */
  position: number;
}

export interface ParameterChange {
  position: number;
  occurredAt: string;
  actor: string;
  nodeId: string;
  changes: Partial<EnterpriseParameterValues>;
  previous: Partial<EnterpriseParameterValues>;
}

export interface ParametersReadModel {
  current(): Promise<ParametersView>;
  history(limit: number): Promise<ParameterChange[]>;
}

export const PARAMETERS_READ_MODEL = Symbol('ParametersReadModel');

export interface ClientView {
  clientId: string;
  clientName: string;
  type: 'public' | 'confidential';
  redirectUris: string[];
  grantTypes: import('@authz/contracts').GrantType[];
  scope: string;
  createdAt: string;
  createdBy: string;
}

export interface ClientsReadModel {
  /** Clients ordered by id, after the given id (keyset pagination). */
  list(after: string | undefined, limit: number): Promise<ClientView[]>;
}

export const CLIENTS_READ_MODEL = Symbol('ClientsReadModel');

/** `active` and `expired` are both stored as active: expiry is a matter of the clock. */
export type RefreshTokenState = 'active' | 'expired' | 'rotated' | 'revoked';

/** A row of the seed's `refreshtokendetails` (S11): the token's hash, never the token. */
export interface RefreshTokenView {
  pkid: string;
  refreshtokenindex: string;
  userid: string | null;
  clientid: string;
  validity: string;
  state: RefreshTokenState;
  scope: string;
  grantType: string;
  family: string;
  issuedAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  revokedReason: string | null;
  nodeId: string;
}

export interface RefreshTokenFilter {
  userId?: string;
  clientId?: string;
  state?: RefreshTokenState;
}

/** A page, newest first; `before` is where the previous page ended (keyset, never an offset). */
export interface Page<T> {
  items: T[];
  /** Pass back to get the next page; null on the last one. */
  next: number | null;
}

export interface RefreshTokenDetailsReadModel {
  list(filter: RefreshTokenFilter, before: number | undefined, limit: number): Promise<Page<RefreshTokenView>>;
}

export const REFRESH_TOKEN_DETAILS_READ_MODEL = Symbol('RefreshTokenDetailsReadModel');

export interface AuditEntry {
  seq: number;
  position: number;
  occurredAt: string;
  type: string;
  actor: string;
  userId: string | null;
  clientId: string | null;
  tokenId: string | null;
  nodeId: string;
  correlationId: string;
  summary: string;
}

export interface AuditFilter {
  userId?: string;
  clientId?: string;
  type?: string;
  since?: Date;
  until?: Date;
}

export interface AuditReadModel {
  list(filter: AuditFilter, before: number | undefined, limit: number): Promise<Page<AuditEntry>>;
}

export const AUDIT_READ_MODEL = Symbol('AuditReadModel');
