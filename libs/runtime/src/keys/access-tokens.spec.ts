import { sign } from 'node:crypto';
import {
  CLUSTER_INITIALIZED,
  KEY_REGENERATED,
  TOKEN_ISSUED,
  type EventEnvelope,
  type KeyRegeneratedV2,
  type TokenIssuedV1,
  type WrappedKey,
} from '@authz/contracts';
import type { EventStore, EventTransport } from '@authz/application';
import { GrantError, RefreshGrant, assertNotRevokedByKeyRegeneration } from '@authz/domain';
import type { Database } from '@authz/event-store';
import { KeyCache } from '@authz/read-models';
import { exportPublicJwk, generateEncryptionKey, generateSigningKey, hashToken, type EncryptionKey, type SigningKey } from '@authz/tokens';
import { KeyCacheAccessTokens } from './access-tokens';

/**
 * The key cache's rules for refresh tokens after a signing key regeneration, on the node's
 * real token adapter: a retired key verifies refresh tokens (never access tokens) for the
 * longest refresh token lifetime, and whether a regeneration revoked them is read from the
 * event store.
 */
const CLUSTER = 'c1';
const DAY = 86_400_000;
const STREAM = 'keyring-cluster';
const wrapped: WrappedKey = { alg: 'A256GCM', kekId: 'k', iv: 'i', ciphertext: 'c', tag: 't' };
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

let k1: SigningKey;
let k2: SigningKey;
let stranger: SigningKey;
let encryption: EncryptionKey;
const material = new Map<string, Buffer>();

beforeAll(async () => {
  [k1, k2, stranger] = await Promise.all([generateSigningKey(CLUSTER), generateSigningKey(CLUSTER), generateSigningKey(CLUSTER)]);
  encryption = generateEncryptionKey(CLUSTER);
  for (const key of [k1, k2, stranger]) material.set(key.kid, key.privateKey.export({ format: 'der', type: 'pkcs8' }) as Buffer);
  material.set(encryption.kid, encryption.secret.export());
});

function event(type: string, version: number, data: unknown, occurredAt: Date, position = version * 10): EventEnvelope {
  return {
    eventId: `e${version}`, type, schemaVersion: type === KEY_REGENERATED ? 2 : 1, streamId: STREAM, streamVersion: version, position,
    occurredAt: occurredAt.toISOString(), nodeId: 'n', correlationId: 'c', actor: 'user:admin', data,
  };
}

function signingEvent(key: SigningKey, version: number, occurredAt: Date, revokeRefreshTokens = false, reason: 'bootstrap' | 'regenerate' = 'regenerate') {
  const data: KeyRegeneratedV2 = {
    kind: 'signing', kid: key.kid, fingerprint: key.kid.split(':')[1], publicJwk: { ...exportPublicJwk(key) }, wrapped, reason, revokeRefreshTokens,
  };
  return event(KEY_REGENERATED, version, data, occurredAt);
}

function bootstrap(at: Date): EventEnvelope[] {
  const secret: KeyRegeneratedV2 = { kind: 'encryption', kid: encryption.kid, fingerprint: encryption.kid.split(':')[1], wrapped, reason: 'bootstrap', revokeRefreshTokens: false };
  return [event(CLUSTER_INITIALIZED, 1, { clusterId: CLUSTER }, at), signingEvent(k1, 2, at, false, 'bootstrap'), event(KEY_REGENERATED, 3, secret, at)];
}

/** A node's key cache over an in-memory key ring; `head` is what the event store answers for the ring's head. */
function node(ring: EventEnvelope[]) {
  const reads = { stream: 0, head: 0 };
  const head = { version: 0, revokedBefore: 0 };
  const db = {
    query: async () => [],
    prepared: async () => {
      reads.head++;
      return [{ version: head.version || ring.length, revoked_before: head.revokedBefore ? String(head.revokedBefore) : null }];
    },
  } as unknown as Database;
  const store = {
    readStream: async () => {
      reads.stream++;
      return ring;
    },
  } as unknown as EventStore;
  const transport = { subscribe: async () => ({ close: async () => undefined }) } as unknown as EventTransport;
  const cache = new KeyCache(db, store, transport, (kid) => material.get(kid)!, 'node-1', 'authz', () => undefined);
  return { cache, tokens: new KeyCacheAccessTokens(cache), ring, reads, head };
}

const claims = { sub: 'alice', client_id: 'jabber', scope: 'openid' };

describe('refresh tokens across a signing key regeneration (KeyCache + KeyCacheAccessTokens)', () => {
  it('a retired key verifies a refresh token, never an access token; new tokens are under the new key', async () => {
    const { cache, tokens, ring } = node(bootstrap(new Date()));
    await cache.refresh();
    const access = await tokens.mint(claims, 600);
    const refresh = await tokens.mintRefresh('jabber', new Date(Date.now() + 30 * DAY));
    expect(await tokens.validate(access.token)).toMatchObject({ valid: true });

    ring.push(signingEvent(k2, 4, new Date()));
    await cache.refresh();
    expect(cache.signing?.kid).toBe(k2.kid);
    expect(cache.retiredSigningKeys.map((k) => k.kid)).toEqual([k1.kid]);

    // The access token signed with the old key: refused, with the reason it always had (seed S7).
    expect(await tokens.validate(access.token)).toEqual({ valid: false, code: 'unknown_key', reason: 'the token is signed with a key that is not current' });
    // Even presented where refresh tokens are checked, it is no refresh token.
    expect(await tokens.validateRefresh(access.token)).toMatchObject({ valid: false, code: 'wrong_type' });
    // The refresh token signed with the old key still verifies: its stored hash is what counts.
    expect(await tokens.validateRefresh(refresh.token)).toEqual({ valid: true, tid: refresh.tid, clientId: 'jabber', hash: refresh.hash, revokedBefore: 0 });

    const fresh = await tokens.mint(claims, 600);
    expect(JSON.parse(Buffer.from(fresh.token.split('.')[0], 'base64url').toString()).kid).toBe(k2.kid);
    expect(await tokens.validate(fresh.token)).toMatchObject({ valid: true });
  });

  it('a key never in the ring is unknown_key, for refresh tokens too', async () => {
    const { cache, tokens, ring } = node(bootstrap(new Date()));
    ring.push(signingEvent(k2, 4, new Date()));
    await cache.refresh();
    const header = b64({ alg: 'RS256', typ: 'JWT', kid: stranger.kid });
    const payload = b64({ exp: Math.floor(Date.now() / 1000) + 3600, iss: CLUSTER, typ: 'user', tid: '00000000-0000-4000-8000-000000000001', ctyp: 'refresh', ccid: 'jabber' });
    const token = `${header}.${payload}.${sign('sha256', Buffer.from(`${header}.${payload}`), stranger.privateKey).toString('base64url')}`;
    expect(await tokens.validateRefresh(token)).toMatchObject({ valid: false, code: 'unknown_key' });
  });

  it('a refresh token forged with a retired key (even its private half) is refused: its hash is not the stored one', async () => {
    const { cache, tokens, ring } = node(bootstrap(new Date()));
    await cache.refresh();
    const genuine = await tokens.mintRefresh('jabber', new Date(Date.now() + 30 * DAY));
    ring.push(signingEvent(k2, 4, new Date()));
    await cache.refresh();

    // Whoever holds the old private key signs a token of the same grant with another expiry.
    const header = b64({ alg: 'RS256', typ: 'JWT', kid: k1.kid });
    const payload = b64({ exp: Math.floor(Date.now() / 1000) + 60 * 86_400, iss: CLUSTER, typ: 'user', tid: genuine.tid, ctyp: 'refresh', ccid: 'jabber' });
    const forged = `${header}.${payload}.${sign('sha256', Buffer.from(`${header}.${payload}`), k1.privateKey).toString('base64url')}`;
    const check = await tokens.validateRefresh(forged);
    expect(check).toMatchObject({ valid: true, tid: genuine.tid });
    if (!check.valid) throw new Error('unreachable');
    expect(check.hash).toBe(hashToken(forged));
    expect(check.hash).not.toBe(genuine.hash);

    // What the refresh grant decides from the event store: only the stored hash is usable.
    const issued: TokenIssuedV1 = {
      grantType: 'authorization_code', clientId: 'jabber', userId: 'alice', scope: 'openid',
      accessToken: { jti: 'j1', expiresAt: new Date(Date.now() + 600_000).toISOString() },
      refreshToken: { tid: genuine.tid, hash: genuine.hash, expiresAt: genuine.expiresAt.toISOString() },
    };
    const grant = RefreshGrant.load([{ ...event(TOKEN_ISSUED, 1, issued, new Date(), 5), streamId: `grant-${genuine.tid}` }]);
    expect(() => grant.usable(check.hash, 'jabber', new Date())).toThrow(expect.objectContaining({ code: 'REFRESH_TOKEN_UNKNOWN' }));
    expect(grant.usable(genuine.hash, 'jabber', new Date()).refreshToken.tid).toBe(genuine.tid);
  });

  it('drops a retired key once the longest refresh token lifetime (90 days, and a day) has passed since it was replaced', async () => {
    const long = new Date(Date.now() + 365 * DAY);
    const early = node(bootstrap(new Date(Date.now() - 200 * DAY)));
    await early.cache.refresh();
    const refresh = await early.tokens.mintRefresh('jabber', long);

    // Replaced 92 days ago: no refresh token it signed can still be valid, so it verifies none.
    const late = node([...bootstrap(new Date(Date.now() - 200 * DAY)), signingEvent(k2, 4, new Date(Date.now() - 92 * DAY))]);
    await late.cache.refresh();
    expect(late.cache.retiredSigningKeys).toEqual([]);
    expect(late.cache.refreshVerificationKey(k1.kid)).toBeUndefined();
    expect(await late.tokens.validateRefresh(refresh.token)).toMatchObject({ valid: false, code: 'unknown_key' });

    // Replaced 89 days ago: it still does, until day 91 after.
    const recent = node([...bootstrap(new Date(Date.now() - 200 * DAY)), signingEvent(k2, 4, new Date(Date.now() - 89 * DAY))]);
    await recent.cache.refresh();
    expect(await recent.tokens.validateRefresh(refresh.token)).toMatchObject({ valid: true });
    expect(recent.cache.refreshVerificationKey(k1.kid, Date.now() + 3 * DAY)).toBeUndefined();
  });

  it('keeps several retired keys (newest first) across regenerations and a reload from the store', async () => {
    const { cache, tokens, ring } = node(bootstrap(new Date()));
    await cache.refresh();
    const first = await tokens.mintRefresh('jabber', new Date(Date.now() + DAY));
    ring.push(signingEvent(k2, 4, new Date()));
    await cache.refresh();
    const second = await tokens.mintRefresh('jabber', new Date(Date.now() + DAY));
    ring.push(signingEvent(stranger, 5, new Date()));
    await cache.reload();
    expect(cache.retiredSigningKeys.map((k) => k.kid)).toEqual([k2.kid, k1.kid]);
    for (const token of [first, second]) expect(await tokens.validateRefresh(token.token)).toMatchObject({ valid: true, tid: token.tid });
  });

  it('reads from the event store whether a regeneration revoked refresh tokens, and takes the new key it finds there', async () => {
    const { cache, tokens, ring, reads, head } = node(bootstrap(new Date()));
    await cache.refresh();
    const refresh = await tokens.mintRefresh('jabber', new Date(Date.now() + DAY));
    expect(await cache.refreshTokensRevokedBefore()).toBe(0);

    // Another node regenerated with revokeRefreshTokens; its event has not reached this node yet.
    ring.push(signingEvent(k2, 4, new Date(), true));
    head.revokedBefore = 40;
    const streamReads = reads.stream;
    const check = await tokens.validateRefresh(refresh.token);
    expect(check).toMatchObject({ valid: true, revokedBefore: 40 });
    expect(reads.stream).toBe(streamReads + 1);
    expect(cache.signing?.kid).toBe(k2.kid);

    // The refresh handler's rule: a family that began before the regeneration is revoked, a later one is not.
    expect(() => assertNotRevokedByKeyRegeneration(25, 40)).toThrow(GrantError);
    expect(() => assertNotRevokedByKeyRegeneration(41, 40)).not.toThrow();

    // Concurrent checks share one read of the head.
    const before = reads.head;
    await Promise.all(Array.from({ length: 20 }, () => cache.refreshTokensRevokedBefore()));
    expect(reads.head - before).toBeLessThanOrEqual(2);
  });
});
