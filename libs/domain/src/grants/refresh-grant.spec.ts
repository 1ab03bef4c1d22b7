import {
  REFRESH_TOKEN_FAMILY_REVOKED,
  REFRESH_TOKEN_REUSE_DETECTED,
  REFRESH_TOKEN_ROTATED,
  REFRESH_TOKENS_REVOKED,
  TOKEN_ISSUED,
  TOKEN_REFRESHED,
  TOKEN_REVOKED,
  type EventEnvelope,
  type TokenIssuedV1,
} from '@authz/contracts';
import { RefreshGrant } from './refresh-grant';
import { TokenRevocations } from './token-revocations';

const NOW = new Date('2026-06-01T12:00:00Z');
const LATER = '2026-06-30T00:00:00.000Z';
const access = { jti: 'jti-1', expiresAt: '2026-06-01T13:00:00.000Z' };

function envelope(type: string, data: unknown, position: number, stream = 'grant-t1'): EventEnvelope {
  return {
    eventId: `e${position}`, type, schemaVersion: 1, streamId: stream, streamVersion: 1, position,
    occurredAt: NOW.toISOString(), nodeId: 'n', correlationId: 'c', actor: 'a', data,
  };
}

function issued(over: Partial<TokenIssuedV1> = {}): TokenIssuedV1 {
  return {
    grantType: 'authorization_code', clientId: 'app', userId: 'alice', scope: 'openid', accessToken: access,
    refreshToken: { tid: 't1', hash: 'h1', expiresAt: LATER }, ...over,
  };
}

const revocation = (position: number, clientId: string | null, userId = 'alice') =>
  envelope(REFRESH_TOKENS_REVOKED, { userId, clientId, count: 1 }, position, `revocation-${userId}`);

describe('RefreshGrant', () => {
  it('given an issued grant, when refreshed, then TokenRefreshed for the access token, and nothing on the grant', () => {
    const grant = RefreshGrant.load([envelope(TOKEN_ISSUED, issued(), 10)]);
    const event = grant.refresh({ clientId: 'app', tokenHash: 'h1', now: NOW, accessToken: { jti: 'jti-2', expiresAt: access.expiresAt } });
    expect(event).toEqual({
      type: TOKEN_REFRESHED, schemaVersion: 1, data: { clientId: 'app', userId: 'alice', tid: 't1', accessToken: { jti: 'jti-2', expiresAt: access.expiresAt } },
    });
    // Concurrent refreshes of one token do not contend for the grant's version.
    expect(grant.uncommittedEvents()).toEqual([]);
    expect(grant.version).toBe(1);
  });

  it.each([
    ['another hash', { tokenHash: 'h2' }, 'REFRESH_TOKEN_UNKNOWN'],
    ['another client', { clientId: 'other' }, 'REFRESH_TOKEN_OF_ANOTHER_CLIENT'],
    ['after expiry', { now: new Date(LATER) }, 'REFRESH_TOKEN_EXPIRED'],
  ])('refuses a refresh with %s, deciding nothing', (_what, over, code) => {
    const grant = RefreshGrant.load([envelope(TOKEN_ISSUED, issued(), 10)]);
    expect(() => grant.refresh({ clientId: 'app', tokenHash: 'h1', now: NOW, accessToken: access, ...over })).toThrow(expect.objectContaining({ code }));
    expect(grant.uncommittedEvents()).toEqual([]);
  });

  it('decides the same from a history without its TokenRefreshed events, given the stream version', () => {
    const refreshed = (position: number) => envelope(TOKEN_REFRESHED, { clientId: 'app', userId: 'alice', tid: 't1', accessToken: access }, position);
    const revoked = envelope(TOKEN_REVOKED, { clientId: 'app', userId: 'alice', tid: 't1', reason: 'client_request' }, 20);
    const whole = RefreshGrant.load([envelope(TOKEN_ISSUED, issued(), 10), refreshed(11), refreshed(12), refreshed(13), revoked]);
    const decisive = RefreshGrant.load([envelope(TOKEN_ISSUED, issued(), 10), revoked], [], 5);
    for (const grant of [whole, decisive]) {
      expect(grant.version).toBe(5);
      expect(grant.isRevoked).toBe(true);
      expect(grant.origin).toBe(10);
    }
    // A live grant appends after the events it was not given.
    const live = RefreshGrant.load([envelope(TOKEN_ISSUED, issued(), 10)], [], 300);
    live.revoke('client_request');
    expect(live.version).toBe(300);
    expect(live.uncommittedEvents()).toHaveLength(1);
    expect(() => RefreshGrant.load([envelope(TOKEN_ISSUED, issued(), 10), revoked], [], 1)).toThrow(RangeError);
  });

  it('given a revoked grant, when refreshed, then REFRESH_TOKEN_REVOKED; revoking again decides nothing', () => {
    const grant = RefreshGrant.load([envelope(TOKEN_ISSUED, issued(), 10), envelope(TOKEN_REVOKED, { clientId: 'app', userId: 'alice', tid: 't1', reason: 'client_request' }, 11)]);
    expect(() => grant.usable('h1', 'app', NOW)).toThrow(expect.objectContaining({ code: 'REFRESH_TOKEN_REVOKED' }));
    grant.revoke('admin');
    expect(grant.uncommittedEvents()).toEqual([]);
  });

  describe('admin revocation (seed S12)', () => {
    it('a revocation of the user after the grant was issued revokes it', () => {
      const grant = RefreshGrant.load([envelope(TOKEN_ISSUED, issued(), 10)], [revocation(20, null)]);
      expect(grant.isRevoked).toBe(true);
      expect(() => grant.usable('h1', 'app', NOW)).toThrow(expect.objectContaining({ code: 'REFRESH_TOKEN_REVOKED' }));
    });

    it('a revocation for the same user and client revokes it; one for another client does not', () => {
      expect(RefreshGrant.load([envelope(TOKEN_ISSUED, issued(), 10)], [revocation(20, 'app')]).isRevoked).toBe(true);
      expect(RefreshGrant.load([envelope(TOKEN_ISSUED, issued(), 10)], [revocation(20, 'other')]).isRevoked).toBe(false);
    });

    it('a token issued after the revocation works', () => {
      const grant = RefreshGrant.load([envelope(TOKEN_ISSUED, issued(), 30)], [revocation(20, null)]);
      expect(grant.usable('h1', 'app', NOW).refreshToken.tid).toBe('t1');
    });

    it("a successor issued after the revocation is revoked when its family began before it (a rotation racing the revocation)", () => {
      const successor = issued({ refreshToken: { tid: 't2', hash: 'h2', expiresAt: LATER }, family: 't1', parentTid: 't1', familyPosition: 10 });
      const grant = RefreshGrant.load([envelope(TOKEN_ISSUED, successor, 30, 'grant-t2')], [revocation(20, null)]);
      expect(grant.origin).toBe(10);
      expect(() => grant.usable('h2', 'app', NOW)).toThrow(expect.objectContaining({ code: 'REFRESH_TOKEN_REVOKED' }));
    });

    it("ignores another user's revocation", () => {
      expect(RefreshGrant.load([envelope(TOKEN_ISSUED, issued(), 10)], [revocation(20, null, 'bob')]).isRevoked).toBe(false);
    });
  });

  describe('rotation', () => {
    const successor = { tid: 't2', hash: 'h2', expiresAt: LATER };
    const rotate = (grant: RefreshGrant, now = NOW, next: typeof successor | undefined = successor) =>
      grant.rotate({ clientId: 'app', tokenHash: 'h1', now, graceSeconds: 10, successor: next, source: { address: '10.0.0.1', nodeId: null } });

    it('given an unused token, when rotated, then RefreshTokenRotated names the successor and the family', () => {
      const grant = RefreshGrant.load([envelope(TOKEN_ISSUED, issued(), 10)]);
      expect(rotate(grant)).toEqual({ outcome: 'rotated' });
      expect(grant.uncommittedEvents()).toEqual([
        { type: REFRESH_TOKEN_ROTATED, schemaVersion: 1, data: { clientId: 'app', userId: 'alice', tid: 't1', family: 't1', rotatedAt: NOW.toISOString(), successor } },
      ]);
    });

    const rotated = () =>
      RefreshGrant.load([
        envelope(TOKEN_ISSUED, issued(), 10),
        envelope(REFRESH_TOKEN_ROTATED, { clientId: 'app', userId: 'alice', tid: 't1', family: 't1', rotatedAt: NOW.toISOString(), successor }, 11),
      ]);

    it('given a rotated token, when used again within the grace window, then the same successor and no event', () => {
      const grant = rotated();
      expect(rotate(grant, new Date(NOW.getTime() + 5_000), undefined)).toEqual({ outcome: 'grace', successor });
      expect(grant.uncommittedEvents()).toEqual([]);
    });

    it('given a rotated token, when used after the grace window, then reuse is detected and the token revoked', () => {
      const grant = rotated();
      expect(rotate(grant, new Date(NOW.getTime() + 11_000), undefined)).toEqual({ outcome: 'reused' });
      expect(grant.uncommittedEvents().map((e) => e.type)).toEqual([REFRESH_TOKEN_REUSE_DETECTED, TOKEN_REVOKED]);
      expect(grant.uncommittedEvents()[0].data).toMatchObject({ family: 't1', source: { address: '10.0.0.1' } });
    });

    it('tells what a use will be before anything is signed: first, grace, then reuse', () => {
      const decide = (grant: RefreshGrant, afterMs: number) => grant.rotationState({ clientId: 'app', tokenHash: 'h1', now: new Date(NOW.getTime() + afterMs), graceSeconds: 10 });
      expect(decide(RefreshGrant.load([envelope(TOKEN_ISSUED, issued(), 10)]), 0)).toBe('first');
      expect(decide(rotated(), 5_000)).toBe('grace');
      expect(decide(rotated(), 11_000)).toBe('reused');
      // A refused token is refused before any decision, as by `usable`.
      expect(() => rotated().rotationState({ clientId: 'other', tokenHash: 'h1', now: NOW, graceSeconds: 10 })).toThrow(expect.objectContaining({ code: 'REFRESH_TOKEN_OF_ANOTHER_CLIENT' }));
    });

    it('a rotated token cannot be refreshed without rotation', () => {
      expect(() => rotated().refresh({ clientId: 'app', tokenHash: 'h1', now: NOW, accessToken: access })).toThrow(expect.objectContaining({ code: 'REFRESH_TOKEN_ROTATED' }));
    });
  });
});

describe('family revocation', () => {
  const familyRevoked = (position: number, family: string) =>
    envelope(REFRESH_TOKEN_FAMILY_REVOKED, { userId: 'alice', clientId: 'app', family, tid: 't1', reason: 'reuse_detected' }, position, 'revocation-alice');

  it('given a revocation of its family, whenever made, every token of the family is refused: the first and its successors', () => {
    const first = RefreshGrant.load([envelope(TOKEN_ISSUED, issued(), 10)], [familyRevoked(20, 't1')]);
    const successor = issued({ refreshToken: { tid: 't3', hash: 'h3', expiresAt: LATER }, family: 't1', parentTid: 't2', familyPosition: 10 });
    const later = RefreshGrant.load([envelope(TOKEN_ISSUED, successor, 30, 'grant-t3')], [familyRevoked(20, 't1')]);
    expect(() => first.usable('h1', 'app', NOW)).toThrow(expect.objectContaining({ code: 'REFRESH_TOKEN_REVOKED' }));
    expect(() => later.usable('h3', 'app', NOW)).toThrow(expect.objectContaining({ code: 'REFRESH_TOKEN_REVOKED' }));
  });

  it("leaves the user's other families alone", () => {
    const other = issued({ refreshToken: { tid: 't9', hash: 'h9', expiresAt: LATER } });
    expect(RefreshGrant.load([envelope(TOKEN_ISSUED, other, 40, 'grant-t9')], [familyRevoked(20, 't1')]).isRevoked).toBe(false);
  });

  it('is one event on the user’s revocation stream', () => {
    const revocations = new TokenRevocations().loadFromHistory([familyRevoked(20, 't0')]);
    revocations.revokeFamily({ userId: 'alice', clientId: 'app', family: 't1', tid: 't2' });
    expect(revocations.version).toBe(1);
    expect(revocations.uncommittedEvents()).toEqual([
      { type: REFRESH_TOKEN_FAMILY_REVOKED, schemaVersion: 1, data: { userId: 'alice', clientId: 'app', family: 't1', tid: 't2', reason: 'reuse_detected' } },
    ]);
  });
});

describe('TokenRevocations', () => {
  it('given no history, when an admin revokes a user, then RefreshTokensRevoked with the count', () => {
    const revocations = new TokenRevocations();
    revocations.revoke('alice', 'app', 3);
    expect(revocations.uncommittedEvents()).toEqual([{ type: REFRESH_TOKENS_REVOKED, schemaVersion: 1, data: { userId: 'alice', clientId: 'app', count: 3 } }]);
    expect(revocations.revocations).toHaveLength(1);
  });
});
