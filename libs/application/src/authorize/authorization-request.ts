import { CODE_CHALLENGE, parseScope, type Client } from '@authz/domain';

export interface AuthorizationRequest {
  responseType: 'code' | 'token';
  clientId: string;
  redirectUri: string;
  scope: string;
  state?: string;
  codeChallenge?: string;
}

/** Where an error goes (RFC 6749 §4.1.2.1): to the client's redirect URI only once that URI is known to be the client's. */
export type AuthorizationCheck =
  | { ok: true; request: AuthorizationRequest; client: Client }
  | { ok: false; redirect: false; error: string; description: string }
  | { ok: false; redirect: true; redirectUri: string; responseType: 'code' | 'token'; state?: string; error: string; description: string };

const MAX = 2048;

function single(params: Record<string, unknown>, name: string): string | undefined | null {
  const value = params[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > MAX) return null;
  return value;
}

/**
 * Checks an authorization request, in the order RFC 6749 asks: client and redirect URI first
 * (a failure there is shown to the user, never redirected: no open redirect), then the rest
 * (reported to the client's redirect URI).
 */
export async function checkAuthorizationRequest(
  params: Record<string, unknown>,
  clients: { find(clientId: string): Promise<Client> },
  codeFlowEnabled: boolean,
): Promise<AuthorizationCheck> {
  const clientId = single(params, 'client_id');
  if (!clientId) return { ok: false, redirect: false, error: 'invalid_request', description: 'client_id is missing, repeated or too long' };
  const client = await clients.find(clientId);
  if (!client.exists) return { ok: false, redirect: false, error: 'invalid_client', description: 'unknown client' };
  const registered = client.details!.redirectUris;
  const given = single(params, 'redirect_uri');
  if (given === null) return { ok: false, redirect: false, error: 'invalid_request', description: 'redirect_uri is repeated or too long' };
  // Exact match only; without one, the client's only registered URI.
  const redirectUri = given ?? (registered.length === 1 ? registered[0] : undefined);
  if (!redirectUri || !registered.includes(redirectUri)) {
    return { ok: false, redirect: false, error: 'invalid_request', description: 'redirect_uri is not registered for this client' };
  }
  const state = single(params, 'state');
  const responseTypeRaw = single(params, 'response_type');
  const responseType = responseTypeRaw === 'token' ? 'token' : 'code';
  const fail = (error: string, description: string): AuthorizationCheck => ({
    ok: false,
    redirect: true,
    redirectUri,
    responseType,
    state: state ?? undefined,
    error,
    description,
  });
  if (state === null) return fail('invalid_request', 'state is repeated or too long');
  if (responseTypeRaw !== 'code' && responseTypeRaw !== 'token') {
    return responseTypeRaw === undefined || responseTypeRaw === null
      ? fail('invalid_request', 'response_type is missing or repeated')
      : fail('unsupported_response_type', 'response_type must be code or token');
  }
  if (responseType === 'code' && !codeFlowEnabled) {
    return fail('unsupported_response_type', 'the authorization code flow is disabled (OAuth with Refresh Login Flow)');
  }
  if (!client.allows(responseType === 'code' ? 'authorization_code' : 'implicit')) {
    return fail('unauthorized_client', `this client may not use response_type=${responseType}`);
  }
  let requested: string[];
  try {
    requested = parseScope(single(params, 'scope') ?? undefined);
  } catch {
    return fail('invalid_scope', 'the scope is malformed');
  }
  if (single(params, 'scope') === null) return fail('invalid_request', 'scope is repeated or too long');
  const granted = client.grantScope(requested);
  if (!granted) return fail('invalid_scope', 'the client may not ask for that scope');
  const codeChallenge = single(params, 'code_challenge');
  const method = single(params, 'code_challenge_method');
  if (responseType === 'code') {
    if (codeChallenge === null || method === null) return fail('invalid_request', 'code_challenge or its method is repeated or too long');
    if (codeChallenge !== undefined) {
      if (method !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256');
      if (!CODE_CHALLENGE.test(codeChallenge)) return fail('invalid_request', 'code_challenge must be 43 base64url characters');
    } else if (client.details!.type === 'public') {
      return fail('invalid_request', 'a public client must send a PKCE code_challenge (S256)');
    }
  }
  return {
    ok: true,
    client,
    request: { responseType, clientId, redirectUri, scope: granted.join(' '), state: state ?? undefined, codeChallenge: codeChallenge ?? undefined },
  };
}
