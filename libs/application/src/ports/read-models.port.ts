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
