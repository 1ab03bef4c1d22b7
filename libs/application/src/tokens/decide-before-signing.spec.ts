import type { EventEnvelope } from '@authz/contracts';
import { REFRESH_TOKEN_ROTATED, TOKEN_ISSUED, TOKEN_REVOKED } from '@authz/contracts';
import { AuthorizationCodeGrantHandler } from './authorization-code/authorization-code.handler';
import { AuthorizationCodeGrantCommand } from './authorization-code/authorization-code.command';
import { RefreshTokenGrantHandler } from './refresh/refresh-token.handler';
import { RefreshTokenGrantCommand } from './refresh/refresh-token.command';
import type { AccessTokens, EventStore, ParametersReadModel, RefreshGrantHistory } from '../ports';

const LATER = new Date(Date.now() + 86_400_000).toISOString();
const context = { actor: 'client:app', correlationId: 'c' };

/** Counts the RSA work: every mint is a signature. */
function signer() {
  const calls: string[] = [];
  const tokens = {
    mint: async () => (calls.push('mint'), { token: 'access', jti: `j${calls.length}`, expiresAt: new Date(LATER) }),
    mintRefresh: async (_c: string, expiresAt: Date, tid = `t${calls.length}`) => (calls.push('mintRefresh'), { token: 'refresh', tid, hash: 'h-new', expiresAt }),
    validate: async () => ({ valid: false as const, code: 'x', reason: 'x' }),
    validateRefresh: async () => ({ valid: true as const, tid: 't1', clientId: 'app', hash: 'h1' }),
  };
  return { tokens: tokens as unknown as AccessTokens, calls };
}

function envelope(type: string, data: unknown, position: number): EventEnvelope {
  return { eventId: `e${position}`, type, schemaVersion: 1, streamId: 'grant-t1', streamVersion: position, position, occurredAt: new Date().toISOString(), nodeId: 'n', correlationId: 'c', actor: 'a', data };
}

const store = (streams: Record<string, EventEnvelope[]> = {}) =>
  ({ readStream: async (id: string) => streams[id] ?? [], appendAll: async () => [], append: async () => [] }) as unknown as EventStore;
const parameters = (rotation: 'Enabled' | 'Disabled') =>
  ({ current: async () => ({ values: { refreshTokenRotation: rotation, accessTokenExpiryMinutes: 60, refreshTokenExpiryDays: 60 } }) }) as unknown as ParametersReadModel;
const clients = { authenticate: async () => ({ allows: () => true, details: { clientId: 'app' } }) } as never;
const issued = envelope(TOKEN_ISSUED, { grantType: 'authorization_code', clientId: 'app', userId: 'ann', scope: 's', accessToken: { jti: 'a', expiresAt: LATER }, refreshToken: { tid: 't1', hash: 'h1', expiresAt: LATER } }, 1);
const history = (grant: EventEnvelope[]) => ({ load: async () => ({ grant, version: grant.length, revocations: [] }) }) as unknown as RefreshGrantHistory;

describe('decisions before signatures', () => {
  it('an unknown authorization code (well formed) costs no signature', async () => {
    const { tokens, calls } = signer();
    const handler = new AuthorizationCodeGrantHandler(store(), tokens, parameters('Disabled'), clients);
    const code = 'A'.repeat(43);
    await expect(handler.execute(new AuthorizationCodeGrantCommand({ clientId: 'app' } as never, code, 'https://app/cb', 'v'.repeat(43), context))).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(calls).toEqual([]);
  });

  it.each([
    ['revoked', [issued, envelope(TOKEN_REVOKED, { clientId: 'app', userId: 'ann', tid: 't1', reason: 'client_request' }, 2)], 'Disabled'],
    ['revoked, rotation on', [issued, envelope(TOKEN_REVOKED, { clientId: 'app', userId: 'ann', tid: 't1', reason: 'client_request' }, 2)], 'Enabled'],
    [
      'reused after the grace window',
      [issued, envelope(REFRESH_TOKEN_ROTATED, { clientId: 'app', userId: 'ann', tid: 't1', family: 't1', rotatedAt: new Date(Date.now() - 60_000).toISOString(), successor: { tid: 't2', hash: 'h2', expiresAt: LATER } }, 2)],
      'Enabled',
    ],
  ] as const)('a refresh token %s costs no signature', async (_what, grant, rotation) => {
    const { tokens, calls } = signer();
    const handler = new RefreshTokenGrantHandler(store(), tokens, parameters(rotation), { refreshGraceSeconds: 10, codeLifetimeSeconds: 60 }, history([...grant]), clients);
    await expect(handler.execute(new RefreshTokenGrantCommand({ clientId: 'app' } as never, 'refresh', context))).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(calls).toEqual([]);
  });

  it('a usable refresh token (rotation off) costs one signature: its access token', async () => {
    const { tokens, calls } = signer();
    const handler = new RefreshTokenGrantHandler(store(), tokens, parameters('Disabled'), { refreshGraceSeconds: 10, codeLifetimeSeconds: 60 }, history([issued]), clients);
    await expect(handler.execute(new RefreshTokenGrantCommand({ clientId: 'app' } as never, 'refresh', context))).resolves.toMatchObject({ access_token: 'access' });
    expect(calls).toEqual(['mint']);
  });
});
