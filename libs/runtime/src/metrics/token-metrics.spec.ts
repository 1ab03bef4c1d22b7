import type { EventEnvelope } from '@authz/contracts';
import { Metrics } from './metrics';
import { tokenCounters, tokenCounts } from './token-metrics';

const event = (type: string, data: unknown): EventEnvelope => ({
  eventId: 'e', type, schemaVersion: 1, streamId: 'grant-x', streamVersion: 1, position: 1,
  occurredAt: '2026-01-01T00:00:00.000Z', nodeId: 'n', correlationId: 'c', actor: 'a', data,
});
const accessToken = { jti: 'j', expiresAt: '2026-01-01T01:00:00.000Z' };

describe('token metrics', () => {
  it('counts an issued token by grant, and a refresh as issued and refreshed, once each', () => {
    expect(tokenCounts(event('TokenIssued', { grantType: 'client_credentials', clientId: 'svc', userId: null, scope: '', accessToken }))).toEqual([
      { metric: 'issued', labels: { grant_type: 'client_credentials', client_id: 'svc' }, by: 1 },
    ]);
    const refreshed = [
      { metric: 'issued', labels: { grant_type: 'refresh_token', client_id: 'app' }, by: 1 },
      { metric: 'refreshed', labels: { client_id: 'app' }, by: 1 },
    ];
    // Rotation on (and retries in the grace window) issue; rotation off refreshes.
    expect(tokenCounts(event('TokenIssued', { grantType: 'refresh_token', clientId: 'app', userId: 'u', scope: '', accessToken }))).toEqual(refreshed);
    expect(tokenCounts(event('TokenRefreshed', { clientId: 'app', userId: 'u', tid: 't', accessToken }))).toEqual(refreshed);
    expect(tokenCounts(event('RefreshTokenRotated', { clientId: 'app', userId: 'u', tid: 't' }))).toEqual([]);
  });

  it('counts revocations by token type, reason and client; an admin revocation by its count', () => {
    expect(tokenCounts(event('TokenRevoked', { clientId: 'app', userId: 'u', tid: 't', reason: 'reuse_detected' }))).toEqual([
      { metric: 'revoked', labels: { token_type: 'refresh', reason: 'reuse_detected', client_id: 'app' }, by: 1 },
    ]);
    expect(tokenCounts(event('AccessTokenRevoked', { jti: 'j', clientId: 'app', userId: null, expiresAt: accessToken.expiresAt }))).toEqual([
      { metric: 'revoked', labels: { token_type: 'access', reason: 'client_request', client_id: 'app' }, by: 1 },
    ]);
    expect(tokenCounts(event('RefreshTokensRevoked', { userId: 'u', clientId: 'app', count: 12 }))).toEqual([
      { metric: 'revoked', labels: { token_type: 'refresh', reason: 'admin', client_id: 'app' }, by: 12 },
    ]);
    expect(tokenCounts(event('RefreshTokensRevoked', { userId: 'u', clientId: null, count: 3 }))[0].labels).toEqual({ token_type: 'refresh', reason: 'admin', client_id: '*' });
    expect(tokenCounts(event('RefreshTokensRevoked', { userId: 'u', clientId: null, count: 0 }))).toEqual([]);
  });

  it('ignores other events', () => {
    expect(tokenCounts(event('ClientRegistered', { clientId: 'app' }))).toEqual([]);
    expect(tokenCounts(event('EnterpriseParametersChanged', {}))).toEqual([]);
  });

  it('feeds the counters of a registry', async () => {
    const metrics = new Metrics();
    const count = tokenCounters(metrics);
    count([
      event('TokenIssued', { grantType: 'client_credentials', clientId: 'svc', userId: null, scope: '', accessToken }),
      event('TokenIssued', { grantType: 'client_credentials', clientId: 'svc', userId: null, scope: '', accessToken }),
      event('RefreshTokensRevoked', { userId: 'u', clientId: null, count: 7 }),
    ]);
    const text = await metrics.text();
    expect(text).toContain('authz_tokens_issued_total{grant_type="client_credentials",client_id="svc"} 2');
    expect(text).toContain('authz_tokens_revoked_total{token_type="refresh",reason="admin",client_id="*"} 7');
  });
});
