import { CLUSTER_INITIALIZED, KEY_REGENERATED } from '@authz/contracts';
import { DomainError } from '../errors';
import { GrantError } from '../grants/authorization-code';
import {
  KeyRing,
  RETIRED_SIGNING_KEY_RETENTION_MS,
  assertNotRevokedByKeyRegeneration,
  retiredKeyVerifiesRefreshTokens,
  revokedByKeyRegeneration,
  type NewKey,
} from './key-ring';

const wrapped = { alg: 'A256GCM' as const, kekId: 'k', iv: 'i', ciphertext: 'c', tag: 't' };
const signingKey = (fp: string, cluster = 'c1'): NewKey => ({ kid: `${cluster}:${fp}`, fingerprint: fp, publicJwk: { kty: 'RSA' }, wrapped });
const encryptionKey = (fp: string, cluster = 'c1'): NewKey => ({ kid: `${cluster}:${fp}`, fingerprint: fp, wrapped });

function initialized(): KeyRing {
  const ring = new KeyRing();
  ring.initialize('c1', signingKey('s1'), encryptionKey('e1'));
  return new KeyRing().loadFromHistory(ring.uncommittedEvents());
}

const codeOf = (fn: () => void) => {
  try {
    fn();
  } catch (error) {
    return (error as DomainError).code;
  }
  return 'no error';
};

describe('KeyRing', () => {
  it('given nothing, when initialized, then the cluster id and both keys are recorded as bootstrap', () => {
    const ring = new KeyRing();
    ring.initialize('c1', signingKey('s1'), encryptionKey('e1'));
    expect(ring.uncommittedEvents().map((e) => [e.type, (e.data as { kind?: string; reason?: string }).kind, (e.data as { reason?: string }).reason])).toEqual([
      [CLUSTER_INITIALIZED, undefined, undefined],
      [KEY_REGENERATED, 'signing', 'bootstrap'],
      [KEY_REGENERATED, 'encryption', 'bootstrap'],
    ]);
    expect(ring.clusterId).toBe('c1');
  });

  it('given an initialized cluster, when initialized again (a restart), then it refuses and keeps its keys', () => {
    const ring = initialized();
    expect(codeOf(() => ring.initialize('c2', signingKey('s2', 'c2'), encryptionKey('e2', 'c2')))).toBe('CLUSTER_ALREADY_INITIALIZED');
    expect(ring.key('signing')?.fingerprint).toBe('s1');
  });

  it('given an initialized cluster, when the signing key is regenerated, then only the signing key changes', () => {
    const ring = initialized();
    ring.regenerate('signing', signingKey('s2'));
    expect(ring.uncommittedEvents()).toEqual([
      { type: KEY_REGENERATED, schemaVersion: 2, data: { ...signingKey('s2'), kind: 'signing', reason: 'regenerate', revokeRefreshTokens: false } },
    ]);
    expect(ring.key('signing')?.fingerprint).toBe('s2');
    expect(ring.key('encryption')?.fingerprint).toBe('e1');
  });

  it('refuses to regenerate before initialization, a key of another cluster, the same key, or a signing key without public key', () => {
    expect(codeOf(() => new KeyRing().regenerate('signing', signingKey('s2')))).toBe('CLUSTER_NOT_INITIALIZED');
    expect(codeOf(() => initialized().regenerate('encryption', encryptionKey('e2', 'c9')))).toBe('KEY_OF_ANOTHER_CLUSTER');
    expect(codeOf(() => initialized().regenerate('encryption', encryptionKey('e1')))).toBe('KEY_NOT_NEW');
    expect(codeOf(() => initialized().regenerate('signing', encryptionKey('s3')))).toBe('SIGNING_KEY_WITHOUT_PUBLIC_KEY');
  });

  it('records whether a signing regeneration revokes refresh tokens; bootstrap keys never do', () => {
    const ring = initialized();
    ring.regenerate('signing', signingKey('s2'), { revokeRefreshTokens: true });
    expect(ring.uncommittedEvents()[0].data).toMatchObject({ kind: 'signing', reason: 'regenerate', revokeRefreshTokens: true });
    const bootstrap = new KeyRing();
    bootstrap.initialize('c1', signingKey('s1'), encryptionKey('e1'));
    expect(bootstrap.uncommittedEvents().slice(1).map((e) => (e.data as { revokeRefreshTokens: boolean }).revokeRefreshTokens)).toEqual([false, false]);
  });

  it('refuses revokeRefreshTokens on the encryption key (refresh tokens are not encrypted), and anything but a boolean', () => {
    expect(codeOf(() => initialized().regenerate('encryption', encryptionKey('e2'), { revokeRefreshTokens: true }))).toBe('REFRESH_TOKENS_NOT_ENCRYPTED');
    expect(codeOf(() => initialized().regenerate('signing', signingKey('s2'), { revokeRefreshTokens: 'yes' as unknown as boolean }))).toBe('REVOKE_REFRESH_TOKENS_NOT_BOOLEAN');
    const ring = initialized();
    ring.regenerate('encryption', encryptionKey('e2'), { revokeRefreshTokens: false });
    expect(ring.uncommittedEvents()[0].data).toMatchObject({ kind: 'encryption', revokeRefreshTokens: false });
  });
});

describe('retired signing keys and refresh tokens', () => {
  const day = 86_400_000;
  const retiredAt = new Date('2026-01-01T00:00:00Z');

  it('keeps a retired key for the longest refresh token lifetime (90 days) and a day, then drops it', () => {
    expect(RETIRED_SIGNING_KEY_RETENTION_MS).toBe(91 * day);
    expect(retiredKeyVerifiesRefreshTokens(retiredAt, retiredAt)).toBe(true);
    expect(retiredKeyVerifiesRefreshTokens(retiredAt, retiredAt.getTime() + 90 * day)).toBe(true);
    expect(retiredKeyVerifiesRefreshTokens(retiredAt, retiredAt.getTime() + 91 * day)).toBe(true);
    expect(retiredKeyVerifiesRefreshTokens(retiredAt, retiredAt.getTime() + 91 * day + 1)).toBe(false);
    expect(retiredKeyVerifiesRefreshTokens('not a date', retiredAt)).toBe(false);
  });

  it('a regeneration that revoked refresh tokens covers the families that began before it, not those after', () => {
    expect(revokedByKeyRegeneration(10, 20)).toBe(true);
    expect(revokedByKeyRegeneration(20, 20)).toBe(false);
    expect(revokedByKeyRegeneration(21, 20)).toBe(false);
    expect(revokedByKeyRegeneration(10, 0)).toBe(false);
    expect(revokedByKeyRegeneration(10, undefined)).toBe(false);
    expect(revokedByKeyRegeneration(undefined, 20)).toBe(false);
    expect(() => assertNotRevokedByKeyRegeneration(21, 20)).not.toThrow();
    let error: unknown;
    try {
      assertNotRevokedByKeyRegeneration(10, 20);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GrantError);
    expect(error).toMatchObject({ code: 'REFRESH_TOKEN_REVOKED', message: 'the refresh token was revoked by a signing key regeneration' });
  });
});
