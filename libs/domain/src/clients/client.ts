import {
  CLIENT_REGISTERED,
  CURRENT_SCHEMA_VERSIONS,
  GRANT_TYPES,
  type ClientRegisteredV1,
  type ClientType,
  type GrantType,
} from '@authz/contracts';
import { AggregateRoot } from '../aggregate-root';
import { DomainError, ValidationError } from '../errors';

const CLIENT_ID = /^[A-Za-z0-9._~-]{1,128}$/;

/** Whether `value` could be a client's id (anything else names no client, and is never looked up). */
export function isClientId(value: unknown): value is string {
  return typeof value === 'string' && CLIENT_ID.test(value);
}

export function parseClientId(value: unknown, field = 'clientId'): string {
  if (!isClientId(value)) {
    throw new ValidationError('INVALID_CLIENT_ID', `${field} must be 1–128 characters of letters, digits and . _ ~ -`);
  }
  return value;
}
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/;

export function parseScope(value: unknown, field = 'scope'): string[] {
  if (value === undefined || value === null || value === '') return [];
  if (typeof value !== 'string' || value.length > 1024) throw new ValidationError('INVALID_SCOPE', `${field} must be a space-separated string`);
  const scopes = value.split(' ');
  if (scopes.some((s) => !SCOPE_TOKEN.test(s))) throw new ValidationError('INVALID_SCOPE', `${field} has an invalid scope token`);
  return [...new Set(scopes)];
}

export interface ClientRegistration {
  clientId: string;
  clientName: string;
  type: ClientType;
  redirectUris: string[];
  grantTypes: GrantType[];
  scope: string;
}

/** Checks a registration request as an admin sent it. */
export function parseClientRegistration(input: Record<string, unknown>, generatedId: string): ClientRegistration {
  const clientId = input.clientId ?? generatedId;
  if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId)) {
    throw new ValidationError('INVALID_CLIENT_ID', 'clientId must be 1–128 characters of letters, digits and . _ ~ -');
  }
  const { clientName, type } = input;
  if (typeof clientName !== 'string' || clientName.trim() === '' || clientName.length > 200) {
    throw new ValidationError('INVALID_CLIENT_NAME', 'clientName must be a non-empty string of at most 200 characters');
  }
  if (type !== 'public' && type !== 'confidential') throw new ValidationError('INVALID_CLIENT_TYPE', 'type must be "public" or "confidential"');
  const grantTypes = input.grantTypes ?? (type === 'confidential' ? ['client_credentials'] : ['authorization_code']);
  if (!Array.isArray(grantTypes) || grantTypes.length === 0 || grantTypes.some((g) => !GRANT_TYPES.includes(g as GrantType))) {
    throw new ValidationError('INVALID_GRANT_TYPES', `grantTypes must be a non-empty list of: ${GRANT_TYPES.join(', ')}`);
  }
  if (type === 'public' && grantTypes.includes('client_credentials')) {
    throw new ValidationError('INVALID_GRANT_TYPES', 'a public client cannot use client_credentials: it has no secret');
  }
  const redirectUris = input.redirectUris ?? [];
  if (!Array.isArray(redirectUris) || redirectUris.length > 20 || redirectUris.some((u) => !isRedirectUri(u))) {
    throw new ValidationError('INVALID_REDIRECT_URIS', 'redirectUris must be a list of absolute URIs without fragment');
  }
  const needsRedirect = grantTypes.some((g) => g === 'authorization_code' || g === 'implicit');
  if (needsRedirect && redirectUris.length === 0) {
    throw new ValidationError('INVALID_REDIRECT_URIS', 'authorization_code and implicit clients need at least one redirect URI');
  }
  return {
    clientId,
    clientName: clientName.trim(),
    type,
    redirectUris: [...new Set(redirectUris as string[])],
    grantTypes: [...new Set(grantTypes as GrantType[])],
    scope: parseScope(input.scope).join(' '),
  };
}

function isRedirectUri(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > 2000) return false;
  try {
    const url = new URL(value);
    return url.hash === '' && !value.includes('#') && url.protocol !== 'javascript:' && url.protocol !== 'data:';
  } catch {
    return false;
  }
}

/** An OAuth client. A confidential client's secret hash lives beside the stream, never in it. */
export class Client extends AggregateRoot {
  private registration?: ClientRegisteredV1;

  get exists(): boolean {
    return this.registration !== undefined;
  }

  get details(): ClientRegisteredV1 | undefined {
    return this.registration;
  }

  register(registration: ClientRegistration): void {
    if (this.exists) throw new DomainError('CLIENT_EXISTS', `client "${registration.clientId}" already exists`);
    this.raise<ClientRegisteredV1>(CLIENT_REGISTERED, CURRENT_SCHEMA_VERSIONS[CLIENT_REGISTERED], registration);
  }

  allows(grantType: GrantType): boolean {
    return this.registration?.grantTypes.includes(grantType) ?? false;
  }

  /** The scopes granted for a request: all of the client's when none are asked, else the asked ones if allowed. */
  grantScope(requested: string[]): string[] | null {
    const allowed = this.registration?.scope ? this.registration.scope.split(' ') : [];
    if (requested.length === 0) return allowed;
    return requested.every((s) => allowed.includes(s)) ? requested : null;
  }

  protected onClientRegistered(data: ClientRegisteredV1): void {
    this.registration = data;
  }
}
