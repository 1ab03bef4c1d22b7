import { ConcurrencyError } from '@authz/application';
import { REFRESH_TOKEN_ROTATED, TOKEN_ISSUED, TOKEN_REFRESHED, newEvent, type TokenIssuedV1 } from '@authz/contracts';
import { RefreshGrant, TokenRevocations } from '@authz/domain';
import { PostgresRefreshGrantHistory } from '@authz/event-store';
import { context, realStore } from '../support/runtime';

const LATER = new Date(Date.now() + 86_400_000).toISOString();
const access = (jti: string) => ({ jti, expiresAt: LATER });

function issued(tid: string, over: Partial<TokenIssuedV1> = {}): TokenIssuedV1 {
  return { grantType: 'authorization_code', clientId: 'app', userId: 'olga', scope: 'chat', accessToken: access(`a-${tid}`), refreshToken: { tid, hash: `h-${tid}`, expiresAt: LATER }, ...over };
}

/**
 * Events stored by the model before this one keep working through the new code: refreshes
 * appended to the grant's own stream (rotation off), and families whose successors each have
 * a stream, revoked then by a walk and now by one event.
 */
describe('refresh grants stored under the old model (real PostgreSQL)', () => {
  let env: Awaited<ReturnType<typeof realStore>>;
  let history: PostgresRefreshGrantHistory;
  beforeAll(async () => {
    env = await realStore('node-old');
    history = new PostgresRefreshGrantHistory(env.db);
  });
  afterAll(async () => env?.close());

  const load = async (tid: string) => {
    const loaded = await history.load(tid);
    return { grant: RefreshGrant.load(loaded.grant, loaded.revocations, loaded.version), revocations: new TokenRevocations().loadFromHistory(loaded.revocations) };
  };

  it('a grant with old TokenRefreshed events in its stream decides as before, and a new refresh is conditioned on its whole version', async () => {
    const refreshed = (n: number) => newEvent(TOKEN_REFRESHED, { clientId: 'app', userId: 'olga', tid: 'old-1', accessToken: access(`r${n}`) });
    await env.store.append('grant-old-1', 0, [newEvent(TOKEN_ISSUED, issued('old-1')), refreshed(1), refreshed(2), refreshed(3)], context);
    const { grant } = await load('old-1');
    expect(grant.version).toBe(4);
    const event = grant.refresh({ clientId: 'app', tokenHash: 'h-old-1', now: new Date(), accessToken: access('new-1') });
    const conditions = [{ streamId: 'grant-old-1', version: grant.version }, { streamId: 'revocation-olga', version: 0 }];
    await env.store.appendAll([{ streamId: 'grant-new-1', expectedVersion: 0, events: [event] }], context, conditions);
    // A condition at the version before the old refreshes is stale.
    await expect(
      env.store.appendAll([{ streamId: 'grant-new-2', expectedVersion: 0, events: [event] }], context, [{ streamId: 'grant-old-1', version: 1 }]),
    ).rejects.toBeInstanceOf(ConcurrencyError);
  });

  it('a family of the old model (a stream per successor) is revoked whole by one family revocation', async () => {
    const rotated = (tid: string, next: string) =>
      newEvent(REFRESH_TOKEN_ROTATED, { clientId: 'app', userId: 'olga', tid, family: 'fam-1', rotatedAt: new Date().toISOString(), successor: { tid: next, hash: `h-${next}`, expiresAt: LATER } });
    await env.store.append('grant-fam-1', 0, [newEvent(TOKEN_ISSUED, issued('fam-1')), rotated('fam-1', 'fam-2')], context);
    await env.store.append('grant-fam-2', 0, [newEvent(TOKEN_ISSUED, issued('fam-2', { grantType: 'refresh_token', family: 'fam-1', parentTid: 'fam-1', familyPosition: 1 })), rotated('fam-2', 'fam-3')], context);
    await env.store.append('grant-fam-3', 0, [newEvent(TOKEN_ISSUED, issued('fam-3', { grantType: 'refresh_token', family: 'fam-1', parentTid: 'fam-2', familyPosition: 1 }))], context);
    expect((await load('fam-3')).grant.isRevoked).toBe(false);

    const { grant, revocations } = await load('fam-1');
    grant.rotate({ clientId: 'app', tokenHash: 'h-fam-1', now: new Date(Date.now() + 60_000), graceSeconds: 10, successor: undefined, source: { address: null, nodeId: null } });
    revocations.revokeFamily({ userId: 'olga', clientId: 'app', family: grant.family!, tid: 'fam-1' });
    await env.store.appendAll(
      [
        { streamId: 'grant-fam-1', expectedVersion: grant.version, events: grant.uncommittedEvents(), decisive: true },
        { streamId: 'revocation-olga', expectedVersion: revocations.version, events: revocations.uncommittedEvents(), decisive: true },
      ],
      context,
    );
    for (const tid of ['fam-1', 'fam-2', 'fam-3']) expect((await load(tid)).grant.isRevoked).toBe(true);
    // The user's other grants are not of the family.
    expect((await load('old-1')).grant.isRevoked).toBe(false);
    expect(await history.countLive('olga', null)).toBe(1);
  });
});
