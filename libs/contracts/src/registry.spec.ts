import type { EventEnvelope } from './envelope';
import { CURRENT_SCHEMA_VERSIONS, upcast } from './registry';
import { KEY_REGENERATED, revokesRefreshTokens } from './keyring.events';
import { categoryOf, streamId, topicFor } from './streams';

const envelope = (type: string, schemaVersion: number, data: unknown): EventEnvelope => ({
  eventId: 'e', type, schemaVersion, streamId: 'user-a', streamVersion: 1, position: 1,
  occurredAt: '2026-01-01T00:00:00.000Z', nodeId: 'n', correlationId: 'c', actor: 'a', data,
});

describe('upcast', () => {
  const table = { Renamed: { 1: (d: unknown) => ({ ...(d as object), v2: true }), 2: (d: unknown) => ({ ...(d as object), v3: true }) } };

  it('raises an old payload step by step to the current version', () => {
    const result = upcast(envelope('Renamed', 1, { a: 1 }), table, { Renamed: 3 });
    expect(result.schemaVersion).toBe(3);
    expect(result.data).toEqual({ a: 1, v2: true, v3: true });
  });

  it('leaves a current or unknown event as it is', () => {
    const current = envelope('Renamed', 3, { a: 1 });
    expect(upcast(current, table, { Renamed: 3 })).toBe(current);
    const unknown = envelope('Other', 1, {});
    expect(upcast(unknown, table, { Renamed: 3 })).toBe(unknown);
  });

  it('fails loudly when a step is missing rather than hand out an old shape', () => {
    expect(() => upcast(envelope('Renamed', 1, {}), {}, { Renamed: 2 })).toThrow('no upcaster for Renamed v1');
  });
});

describe('streams', () => {
  it('routes a stream to the topic of its category', () => {
    expect(categoryOf(streamId('user', 'a-b'))).toBe('user');
    expect(topicFor('authz', categoryOf('parameters-cluster'))).toBe('authz.parameters');
  });

  it('refuses a stream of no known category', () => {
    expect(() => categoryOf('nope-1')).toThrow('no known category');
    expect(() => categoryOf('nodash')).toThrow();
  });
});

describe('KeyRegenerated', () => {
  const v1 = { kind: 'signing', kid: 'c:f', fingerprint: 'f', wrapped: {}, reason: 'regenerate' };

  it('is at v2; a v1 event reads as a regeneration that did not revoke refresh tokens', () => {
    expect(CURRENT_SCHEMA_VERSIONS[KEY_REGENERATED]).toBe(2);
    const read = upcast(envelope(KEY_REGENERATED, 1, v1));
    expect(read.schemaVersion).toBe(2);
    expect(read.data).toEqual({ ...v1, revokeRefreshTokens: false });
  });

  it('revokes refresh tokens only when a signing regeneration says true, whatever version comes off the wire', () => {
    expect(revokesRefreshTokens(v1)).toBe(false);
    expect(revokesRefreshTokens({ ...v1, revokeRefreshTokens: true })).toBe(true);
    expect(revokesRefreshTokens({ ...v1, revokeRefreshTokens: 'true' })).toBe(false);
    expect(revokesRefreshTokens({ ...v1, kind: 'encryption', revokeRefreshTokens: true })).toBe(false);
    expect(revokesRefreshTokens(null)).toBe(false);
  });
});
