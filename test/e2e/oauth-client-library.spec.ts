import * as oauth from 'oauth4webapi';
import { signInThroughForm } from '../support/browser';
import { describeModes, modesFromEnv, startDeployment, type Deployment } from '../support/deployment';
import { waitFor } from '../support/infra';
import { serviceClient } from '../support/oauth';
import { api, type Node } from '../support/processes';

const REDIRECT = 'https://chat.example/callback';
const USER = { userId: 'carol', password: 'carol-password-1' };

/**
 * oauth4webapi only talks to https:// endpoints unless `allowInsecureRequests` is set. The option
 * exists (marked deprecated so that it stands out) for local development and testing against a
 * server without TLS, which is what this is: a real server on http://127.0.0.1. Every request
 * below passes it; nothing else about the library's behaviour is changed.
 */
const insecure = { [oauth.allowInsecureRequests]: true } as const;

/**
 * End to end with a real OAuth client library that nobody here wrote, used unmodified:
 * discovery → authorization code with PKCE (the login form driven as a browser would) → token
 * → refresh → introspect → revoke → refresh fails. The steps share state and run in order.
 * Both modes: in cluster mode the client talks to node A, and the resource server, which
 * discovers node B, introspects there the tokens node A issued.
 */
describeModes(modesFromEnv(), 'a third-party OAuth client (oauth4webapi) against a real server (%s mode)', (mode) => {
  let d: Deployment;
  /** The node the client discovers and uses. */
  let node: Node;
  /** What the resource server discovered on the other node (the same node in embedded mode). */
  let asOfB: oauth.AuthorizationServer;
  let clusterId: string;
  let as: oauth.AuthorizationServer;
  /** A public client: PKCE, no secret (client_id in the body, `none`). */
  const chatApp: oauth.Client = { client_id: 'lib-chat-app', token_endpoint_auth_method: 'none' };
  /** A confidential resource server that introspects the tokens it is shown. */
  let resourceServer: oauth.Client;
  let resourceServerAuth: oauth.ClientAuth;
  let tokens: oauth.TokenEndpointResponse;
  let refreshed: oauth.TokenEndpointResponse;

  beforeAll(async () => {
    d = await startDeployment(mode, { name: 'oauthlib' });
    node = d.a;
    const admin = d.admin;
    const enabled = await api(`${node.url}/admin/parameters`, { method: 'PUT', auth: admin, body: { oauthWithRefreshLoginFlow: 'Enabled' } });
    expect(enabled.status).toBe(200);
    const user = await api(`${node.url}/admin/users`, { method: 'POST', auth: admin, body: { ...USER, roles: [] } });
    expect(user.status).toBe(201);
    const client = await api(`${node.url}/admin/clients`, {
      method: 'POST',
      auth: admin,
      body: { clientId: chatApp.client_id, clientName: 'Chat (oauth4webapi)', type: 'public', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'], scope: 'chat' },
    });
    expect(client.status).toBe(201);
    const rs = await serviceClient(node.url, admin, 'lib-resource-server');
    resourceServer = { client_id: rs.clientId, token_endpoint_auth_method: 'client_secret_basic' };
    resourceServerAuth = oauth.ClientSecretBasic(rs.clientSecret);
    clusterId = (await api(`${node.url}/admin/keys`, { auth: admin })).body.clusterId;
    expect(clusterId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    // The parameters and the clients reach every node through their projections.
    await d.caughtUp();
    for (const each of d.nodes) {
      await waitFor(async () => (await api(`${each.url}/.well-known/oauth-authorization-server`)).body.response_types_supported?.includes('code'), 30_000, 'code flow on');
    }
  });

  afterAll(async () => d?.stop());

  it('discovery: the library reads and checks the RFC 8414 document', async () => {
    const issuer = new URL(node.url);
    const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
    expect(response.status).toBe(200);
    expect(new URL(response.url).pathname).toBe('/.well-known/oauth-authorization-server');
    // The library checks that the issuer equals the URL it was derived from (RFC 8414 §3.3).
    as = await oauth.processDiscoveryResponse(issuer, response);
    expect(as.issuer).toBe(node.url);
    // The tokens' own issuer is the cluster id, as in CUCM; the metadata names it too.
    expect(as.cluster_id).toBe(clusterId);
    for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'introspection_endpoint', 'revocation_endpoint'] as const) {
      expect(new URL(as[endpoint]!).origin).toBe(node.url);
    }
    expect(as.response_types_supported).toContain('code');
    expect(as.code_challenge_methods_supported).toContain('S256');
    expect(as.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token']));

    // The resource server's own discovery, of the other node: the same cluster, its own URLs.
    const issuerOfB = new URL(d.b.url);
    asOfB = await oauth.processDiscoveryResponse(issuerOfB, await oauth.discoveryRequest(issuerOfB, { algorithm: 'oauth2', ...insecure }));
    expect(asOfB.issuer).toBe(d.b.url);
    expect(asOfB.cluster_id).toBe(clusterId);
    expect(new URL(asOfB.introspection_endpoint!).origin).toBe(d.b.url);
  });

  it('authorization code with PKCE: the user signs in on the HTML form, the library validates the callback and redeems the code', async () => {
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
    const state = oauth.generateRandomState();
    const authorizationUrl = new URL(as.authorization_endpoint!);
    authorizationUrl.search = new URLSearchParams({
      response_type: 'code',
      client_id: chatApp.client_id,
      redirect_uri: REDIRECT,
      scope: 'chat',
      state,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
    }).toString();

    const signIn = await signInThroughForm(authorizationUrl, { username: USER.userId, password: USER.password });
    expect(signIn.form.method).toBe('POST');
    expect(signIn.status).toBe(302);
    const callback = signIn.location!;
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT);

    const callbackParameters = oauth.validateAuthResponse(as, chatApp, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(as, chatApp, oauth.None(), callbackParameters, REDIRECT, codeVerifier, insecure);
    expect(response.headers.get('cache-control')).toBe('no-store');
    tokens = await oauth.processAuthorizationCodeResponse(as, chatApp, response);
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'chat', access_token: expect.any(String), refresh_token: expect.any(String), expires_in: expect.any(Number) });
    expect(tokens.expires_in).toBeGreaterThan(0);
    expect(tokens.id_token).toBeUndefined();
  });

  it('a callback with another state, or an error from the server, is refused by the library', async () => {
    const denied = new URL(REDIRECT);
    const authorizationUrl = new URL(as.authorization_endpoint!);
    // A public client without PKCE: the server refuses at the redirect URI (RFC 6749 §4.1.2.1).
    authorizationUrl.search = new URLSearchParams({ response_type: 'code', client_id: chatApp.client_id, redirect_uri: REDIRECT, state: 'st-1' }).toString();
    const refused = await fetch(authorizationUrl, { redirect: 'manual' });
    expect(refused.status).toBe(302);
    denied.search = new URL(refused.headers.get('location')!).search;
    expect(() => oauth.validateAuthResponse(as, chatApp, denied, 'st-1')).toThrow(expect.objectContaining({ name: 'AuthorizationResponseError', error: 'invalid_request' }));
    expect(() => oauth.validateAuthResponse(as, chatApp, denied, 'st-2')).toThrow('unexpected "state" response parameter value');
  });

  it('refresh: the library gets a new access token with the refresh token', async () => {
    const response = await oauth.refreshTokenGrantRequest(as, chatApp, oauth.None(), tokens.refresh_token!, insecure);
    refreshed = await oauth.processRefreshTokenResponse(as, chatApp, response);
    expect(refreshed).toMatchObject({ token_type: 'bearer', scope: 'chat', access_token: expect.any(String) });
    expect(refreshed.access_token).not.toBe(tokens.access_token);
  });

  it('introspection: the resource server (client_secret_basic) sees both access tokens active, for the user and the client', async () => {
    for (const accessToken of [tokens.access_token, refreshed.access_token]) {
      const response = await oauth.introspectionRequest(as, resourceServer, resourceServerAuth, accessToken, insecure);
      const introspection = await oauth.processIntrospectionResponse(as, resourceServer, response);
      expect(introspection).toMatchObject({ active: true, sub: USER.userId, client_id: chatApp.client_id, scope: 'chat', token_type: 'Bearer' });
      expect(introspection.exp).toBeGreaterThan(Date.now() / 1000);
    }
    const garbage = await oauth.processIntrospectionResponse(as, resourceServer, await oauth.introspectionRequest(as, resourceServer, resourceServerAuth, 'not-a-token', insecure));
    expect(garbage).toEqual({ active: false });
  });

  it('introspection on the other node (cluster: node B validates what node A issued; embedded: the same node)', async () => {
    for (const accessToken of [tokens.access_token, refreshed.access_token]) {
      const response = await oauth.introspectionRequest(asOfB, resourceServer, resourceServerAuth, accessToken, insecure);
      const introspection = await oauth.processIntrospectionResponse(asOfB, resourceServer, response);
      expect(introspection).toMatchObject({ active: true, sub: USER.userId, client_id: chatApp.client_id, scope: 'chat', token_type: 'Bearer' });
    }
  });

  it('revocation: the public client revokes its refresh token', async () => {
    // The newest refresh token: the one refreshing answered, if the server rotates them.
    const refreshToken = refreshed.refresh_token ?? tokens.refresh_token!;
    const response = await oauth.revocationRequest(as, chatApp, oauth.None(), refreshToken, { ...insecure, additionalParameters: { token_type_hint: 'refresh_token' } });
    await expect(oauth.processRevocationResponse(response)).resolves.toBeUndefined();
  });

  it('refresh after revocation: the library surfaces the server\'s invalid_grant', async () => {
    const refreshToken = refreshed.refresh_token ?? tokens.refresh_token!;
    const response = await oauth.refreshTokenGrantRequest(as, chatApp, oauth.None(), refreshToken, insecure);
    const failure = await oauth.processRefreshTokenResponse(as, chatApp, response).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ name: 'ResponseBodyError', code: oauth.RESPONSE_BODY_ERROR, status: 400, error: 'invalid_grant', error_description: expect.any(String) });
  });
});
