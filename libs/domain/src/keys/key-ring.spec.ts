import { CLUSTER_INITIALIZED, KEY_REGENERATED } from '@authz/contracts';
import { DomainError } from '../errors';
import { KeyRing, type NewKey } from './key-ring';

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
      { type: KEY_REGENERATED, schemaVersion: 1, data: { ...signingKey('s2'), kind: 'signing', reason: 'regenerate' } },
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
});
