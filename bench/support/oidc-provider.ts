/**
 * node-oidc-provider as the yardstick of bench/oauth.bench.ts, run in a child process of its own
 * (one Node process, one event loop, like one authz-server) so that it does not share an event
 * loop with the load generator:
 *
 *   OIDC_PORT=… OIDC_SERVICE_SECRET=… OIDC_REDIRECT_URI=… node dist/bench/support/oidc-provider.js
 *
 * The configuration mirrors what the bench sets up on authz:
 *  - access tokens are JWTs signed RS256 (features.resourceIndicators, accessTokenFormat 'jwt'),
 *    with a 2048-bit RSA key generated at start; 60 minutes, as authz's default;
 *  - `bench-service`: confidential, client_secret_basic, client_credentials; it also introspects;
 *  - `chat-app`: public (PKCE), authorization_code + refresh_token; refresh tokens are issued
 *    without offline_access and never rotated (rotateRefreshToken: false), as authz with rotation off;
 *  - `chat-app-rotating`: the same, with single-use refresh tokens (rotateRefreshToken for it
 *    only), as authz with the refreshTokenRotation parameter Enabled;
 *  - the login and consent pages are the library's devInteractions (any login name is accepted);
 *  - state lives in memory: the default MemoryAdapter, nothing is written to disk.
 * A second resource, OPAQUE_RESOURCE, issues opaque access tokens: oidc-provider introspects only
 * opaque tokens and refresh tokens (its JWT access tokens are not stored, and introspect as
 * `{"active": false}`), so the introspection scenario uses those.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';

export const JWT_RESOURCE = 'urn:authz-bench:api';
export const OPAQUE_RESOURCE = 'urn:authz-bench:opaque-api';
export const SERVICE_CLIENT = 'bench-service';
export const PUBLIC_CLIENT = 'chat-app';
export const ROTATING_CLIENT = 'chat-app-rotating';
export const SERVICE_SCOPE = 'vm.read';
export const PUBLIC_SCOPE = 'chat';
const ACCESS_TOKEN_TTL = 60 * 60;

async function main(): Promise<void> {
  const port = Number(process.env.OIDC_PORT);
  const secret = process.env.OIDC_SERVICE_SECRET;
  const redirectUri = process.env.OIDC_REDIRECT_URI;
  if (!port || !secret || !redirectUri) throw new Error('OIDC_PORT, OIDC_SERVICE_SECRET and OIDC_REDIRECT_URI are required');

  // oidc-provider 8 ships no type declarations: a non-literal specifier keeps the import untyped.
  const specifier: string = 'oidc-provider';
  const { default: Provider } = await import(specifier);

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-rs256', alg: 'RS256', use: 'sig' };
  const scope = `${SERVICE_SCOPE} ${PUBLIC_SCOPE}`;

  const provider = new Provider(`http://127.0.0.1:${port}`, {
    clients: [
      {
        client_id: SERVICE_CLIENT,
        client_secret: secret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: SERVICE_SCOPE,
      },
      ...[PUBLIC_CLIENT, ROTATING_CLIENT].map((clientId) => ({
        client_id: clientId,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [redirectUri],
        scope: PUBLIC_SCOPE,
      })),
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'offline_access', SERVICE_SCOPE, PUBLIC_SCOPE],
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => JWT_RESOURCE,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, indicator: string) =>
          indicator === OPAQUE_RESOURCE
            ? { scope, accessTokenFormat: 'opaque', accessTokenTTL: ACCESS_TOKEN_TTL }
            : { scope, audience: JWT_RESOURCE, accessTokenFormat: 'jwt', accessTokenTTL: ACCESS_TOKEN_TTL, jwt: { sign: { alg: 'RS256' } } },
      },
    },
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: (ctx: { oidc: { client?: { clientId: string } } }) => ctx.oidc.client?.clientId === ROTATING_CLIENT,
    ttl: {
      AccessToken: ACCESS_TOKEN_TTL,
      ClientCredentials: ACCESS_TOKEN_TTL,
      AuthorizationCode: 60,
      RefreshToken: 60 * 24 * 60 * 60,
      Grant: 60 * 24 * 60 * 60,
      Session: 24 * 60 * 60,
      Interaction: 60 * 60,
    },
  });

  const server = provider.listen(port, '127.0.0.1');
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

// The bench imports the constants above; only `node dist/bench/support/oidc-provider.js` starts a server.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
