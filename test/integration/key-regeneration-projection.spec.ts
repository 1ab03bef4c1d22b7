import { KEY_REGENERATED, TOKEN_ISSUED, newEvent, type EventEnvelope, type KeyRegeneratedV2, type TokenIssuedV1 } from '@authz/contracts';
import { InProcessTransport } from '@authz/messaging';
import { AuditProjection, KeyCache, ProjectionRunner, RefreshTokenDetailsProjection } from '@authz/read-models';
import { context, realStore } from '../support/runtime';

const DAY = 86_400_000;
const KEY_RING = 'keyring-cluster';
const wrapped = { alg: 'A256GCM' as const, kekId: 'k', iv: 'i', ciphertext: 'c', tag: 't' };

function issued(tid: string, over: Partial<TokenIssuedV1> = {}, expiresIn = DAY): TokenIssuedV1 {
  const expiresAt = new Date(Date.now() + expiresIn).toISOString();
  return {
    grantType: 'authorization_code', clientId: 'phone', userId: 'dave', scope: 'openid', accessToken: { jti: `jti-${tid}`, expiresAt },
    refreshToken: { tid, hash: `hash-${tid}`, expiresAt }, ...over,
  };
}

const regenerated = (fp: string, revokeRefreshTokens: boolean, kind: 'signing' | 'encryption' = 'signing'): KeyRegeneratedV2 => ({
  kind, kid: `c1:${fp}`, fingerprint: fp, ...(kind === 'signing' ? { publicJwk: { kty: 'RSA' } } : {}), wrapped, reason: 'regenerate', revokeRefreshTokens,
});

/**
 * A signing key regeneration with revokeRefreshTokens, as refreshtokendetails, the audit and
 * the key cache's check read it from the real PostgreSQL, in any delivery order.
 */
describe('a signing key regeneration that revokes refresh tokens: refreshtokendetails, audit, the event store check', () => {
  let env: Awaited<ReturnType<typeof realStore>>;
  let runner: ProjectionRunner;
  const details = new RefreshTokenDetailsProjection();
  const audit = new AuditProjection();
  const rows = async () =>
    (await env.db.query<{ pkid: string; state: string; revoked_reason: string | null }>('SELECT pkid, state, revoked_reason FROM refreshtokendetails ORDER BY pkid')).map((r) => [
      r.pkid,
      r.state,
      r.revoked_reason,
    ]);
  const append = async (stream: string, type: string, data: unknown, schemaVersion?: number) => {
    const version = (await env.store.readStream(stream)).length;
    const event = newEvent(type, data);
    return (await env.store.append(stream, version, [schemaVersion ? { ...event, schemaVersion } : event], context))[0];
  };

  beforeAll(async () => {
    env = await realStore();
    runner = new ProjectionRunner(env.db, env.store, new InProcessTransport(), [details, audit], 'it');
  });

  afterAll(async () => {
    await env?.close();
  });

  it('revokes the tokens whose family began before it (not expired ones, not later ones), whichever comes first', async () => {
    const events: EventEnvelope[] = [];
    events.push(await append('grant-t1', TOKEN_ISSUED, issued('t1')));
    events.push(await append('grant-t2', TOKEN_ISSUED, issued('t2', {}, -DAY)));
    // A regeneration written before v2 (no field) and a v2 one that keeps refresh tokens: nothing changes.
    const { revokeRefreshTokens: _, ...v1 } = regenerated('a', false);
    events.push(await append(KEY_RING, KEY_REGENERATED, v1, 1));
    events.push(await append(KEY_RING, KEY_REGENERATED, regenerated('b', false)));
    events.push(await append(KEY_RING, KEY_REGENERATED, regenerated('c', false, 'encryption')));
    const revoking = await append(KEY_RING, KEY_REGENERATED, regenerated('d', true));
    events.push(revoking);
    // Issued after it: a new family (works), and a successor of t1's family (goes with its family).
    events.push(await append('grant-t3', TOKEN_ISSUED, issued('t3')));
    events.push(await append('grant-t4', TOKEN_ISSUED, issued('t4', { family: 't1', parentTid: 't1', familyPosition: events[0].position })));

    const expected = [
      ['t1', 'revoked', 'key_regenerated'],
      ['t2', 'active', null],
      ['t3', 'active', null],
      ['t4', 'revoked', 'key_regenerated'],
    ];
    // The key ring first (another topic), then the grants: the later rows are stored revoked.
    const keyRingFirst = [...events.filter((e) => e.streamId === KEY_RING), ...events.filter((e) => e.streamId !== KEY_RING)];
    await runner.handleBatch(details, keyRingFirst);
    expect(await rows()).toEqual(expected);
    expect(await runner.handleBatch(details, events)).toBe(0);
    // In position order (a rebuild from the store), and one at a time: the same rows.
    await runner.rebuild(details);
    expect(await rows()).toEqual(expected);
    await env.db.transaction(async (manager) => {
      await details.clear(manager);
      for (const event of events) await details.apply(manager, event);
    });
    expect(await rows()).toEqual(expected);
    const [revoked] = await env.db.query<{ revoked_at: Date }>(`SELECT revoked_at FROM refreshtokendetails WHERE pkid = 't1'`);
    expect(new Date(revoked.revoked_at).toISOString()).toBe(revoking.occurredAt);
  });

  it('the audit says what each regeneration did to access and refresh tokens', async () => {
    await runner.rebuild(audit);
    const summaries = (await env.db.query<{ summary: string }>(`SELECT summary FROM audit_events WHERE type = '${KEY_REGENERATED}' ORDER BY position`)).map((r) => r.summary);
    expect(summaries).toEqual([
      expect.stringMatching(/^signing key regenerated: kid c1:a, fingerprint a; access tokens signed with the previous key are rejected, refresh tokens still work/),
      expect.stringMatching(/^signing key regenerated: kid c1:b, .*refresh tokens still work \(the previous key verifies them until they expire\)$/),
      expect.stringMatching(/^encryption key regenerated: kid c1:c, .*access tokens encrypted with the previous key are rejected, refresh tokens \(not encrypted\) still work$/),
      'signing key regenerated: kid c1:d, fingerprint d; access tokens signed with the previous key are rejected, and every refresh token issued before it is revoked',
    ]);
  });

  it('the key cache reads the latest revoking regeneration from the event store, not from what it holds', async () => {
    const logs: string[] = [];
    const cache = new KeyCache(env.db, env.store, new InProcessTransport(), () => Buffer.alloc(0), 'it-node', 'it', (_level, message) => logs.push(message));
    const revoking = (await env.store.readStream(KEY_RING)).filter((e) => (e.data as KeyRegeneratedV2).revokeRefreshTokens === true);
    expect(await cache.refreshTokensRevokedBefore()).toBe(revoking.at(-1)!.position);
    // An encryption regeneration, or a signing one that keeps refresh tokens, moves nothing.
    await append(KEY_RING, KEY_REGENERATED, regenerated('e', false));
    expect(await cache.refreshTokensRevokedBefore()).toBe(revoking.at(-1)!.position);
    const later = await append(KEY_RING, KEY_REGENERATED, regenerated('f', true));
    expect(await cache.refreshTokensRevokedBefore()).toBe(later.position);
    // Seeing the ring ahead, it read the ring (these fake keys cannot be unwrapped: it says so and goes on).
    expect(logs.some((line) => line.includes('cannot take the new signing key c1:f'))).toBe(true);
  });
});
