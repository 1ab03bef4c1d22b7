import { submitLoginForm } from './browser';
import { api } from './processes';

/** Registers a confidential service client through the admin API; answers its id and secret. */
export async function serviceClient(url: string, admin: string, clientId: string, scope = 'vm.read') {
  const response = await api(`${url}/admin/clients`, {
    method: 'POST',
    auth: admin,
    body: { clientId, clientName: clientId, type: 'confidential', grantTypes: ['client_credentials'], scope },
  });
  if (response.status !== 201) throw new Error(`client registration failed: ${response.status} ${JSON.stringify(response.body)}`);
  return { clientId, clientSecret: response.body.clientSecret as string };
}

export async function form(url: string, fields: Record<string, string>, auth?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (auth) headers.authorization = auth;
  const response = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(fields).toString() });
  const text = await response.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: response.status, body, headers: response.headers };
}

export function clientBasic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export async function clientCredentialsToken(url: string, client: { clientId: string; clientSecret: string }): Promise<string> {
  const response = await form(`${url}/oauth/token`, { grant_type: 'client_credentials' }, clientBasic(client.clientId, client.clientSecret));
  if (response.status !== 200) throw new Error(`token request failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.access_token;
}

export async function introspect(url: string, caller: { clientId: string; clientSecret: string }, token: string) {
  const response = await form(`${url}/oauth/introspect`, { token }, clientBasic(caller.clientId, caller.clientSecret));
  if (response.status !== 200) throw new Error(`introspection failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as { active: boolean; [claim: string]: unknown };
}

export function decodeSegment(segment: string): any {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
}

/**
 * Signs in through the form of /oauth/authorize as a browser would (the page first, for its
 * hidden fields and its anti-forgery cookie, then the POST), without following the redirect.
 */
export async function postSignIn(url: string, params: Record<string, string>, username: string, password: string): Promise<Response> {
  const { response } = await submitLoginForm(new URL(`${url}/oauth/authorize?${new URLSearchParams(params)}`), { username, password });
  return response;
}

/**
 * A sign-in page without what differs by design between two failed attempts: the username
 * typed, kept in its field, and each browser's anti-forgery token.
 */
export function withoutEchoes(html: string): string {
  return html.replace(/(name="username" type="text") value="[^"]*"/, '$1').replace(/(name="csrf_token") value="[^"]*"/, '$1');
}
