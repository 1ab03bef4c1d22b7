import {
  REFRESH_TOKEN_ROTATED,
  REFRESH_TOKENS_PURGED,
  REFRESH_TOKENS_REVOKED,
  TOKEN_ISSUED,
  TOKEN_REFRESHED,
  TOKEN_REVOKED,
  newEvent,
  type EventEnvelope,
  type TokenIssuedV1,
} from '@authz/contracts';
import { jest } from '@jest/globals';
import { InProcessTransport } from '@authz/messaging';
import { AuditProjection, PostgresRefreshTokenDetailsReadModel, ProjectionRunner, RefreshTokenDetailsProjection } from '@authz/read-models';
import { PostgresRefreshGrantHistory } from '@authz/event-store';
import { context, realStore } from '../support/runtime';

const DAY = 86_400_000;

function issued(tid: string, userId: string, clientId: string, over: Partial<TokenIssuedV1> = {}, expiresIn = DAY): TokenIssuedV1 {
  const expiresAt = new Date(Date.now() + expiresIn).toISOString();
  return {
    grantType: 'authorization_code', clientId, userId, scope: 'openid', accessToken: { jti: `jti-${tid}`, expiresAt },
    refreshToken: { tid, hash: `hash-${tid}`, expiresAt }, ...over,
  };
}

/** The refreshtokendetails and audit projections against the real PostgreSQL, in any delivery order. */
describe('refreshtokendetails and audit projections', () => {
  let env: Awaited<ReturnType<typeof realStore>>;
  let runner: ProjectionRunner;
  const details = new RefreshTokenDetailsProjection();
  const audit = new AuditProjection();
  const rows = async () =>
    (await env.db.query<{ pkid: string; state: string; revoked_reason: string | null; last_used_at: Date | null }>(
      'SELECT pkid, state, revoked_reason, last_used_at FROM refreshtokendetails ORDER BY pkid',
    )).map((r) => [r.pkid, r.state, r.revoked_reason, r.last_used_at !== null]);

  beforeAll(async () => {
    env = await realStore();
    runner = new ProjectionRunner(env.db, env.store, new InProcessTransport(), [details, audit], 'it');
  });

  afterAll(async () => {
    await env?.close();
  });

  const append = async (stream: string, data: unknown, type: string) => {
    const version = (await env.store.readStream(stream)).length;
    return (await env.store.append(stream, version, [newEvent(type, data)], context))[0];
  };

  it('builds one row per refresh token, applies every token event, and holds whichever of issue and admin revocation comes first', async () => {
    const events: EventEnvelope[] = [];
    events.push(await append('grant-t1', issued('t1', 'dave', 'phone'), TOKEN_ISSUED));
    events.push(await append('grant-t2', issued('t2', 'dave', 'desk'), TOKEN_ISSUED));
    events.push(await append('grant-t3', issued('t3', 'erin', 'phone'), TOKEN_ISSUED));
    events.push(await append('grant-a1', { ...issued('x', 'dave', 'phone'), refreshToken: undefined, accessToken: { jti: 'a1', expiresAt: new Date().toISOString() } }, TOKEN_ISSUED));
    events.push(await append('grant-t1', { clientId: 'phone', userId: 'dave', tid: 't1', accessToken: { jti: 'j2', expiresAt: new Date().toISOString() } }, TOKEN_REFRESHED));
    events.push(await append('grant-t3', { clientId: 'phone', userId: 'erin', tid: 't3', reason: 'client_request' }, TOKEN_REVOKED));
    events.push(await append('revocation-dave', { userId: 'dave', clientId: 'phone', count: 1 }, REFRESH_TOKENS_REVOKED));
    // Issued after the revocation, and a successor whose family began before it.
    events.push(await append('grant-t4', issued('t4', 'dave', 'phone'), TOKEN_ISSUED));
    events.push(await append('grant-t5', issued('t5', 'dave', 'phone', { family: 't1', parentTid: 't1', familyPosition: events[0].position }), TOKEN_ISSUED));
    events.push(await append('grant-t4', { clientId: 'phone', userId: 'dave', tid: 't4', family: 't4', rotatedAt: new Date().toISOString(), successor: { tid: 't6', hash: 'h6', expiresAt: new Date().toISOString() } }, REFRESH_TOKEN_ROTATED));

    const expected = [
      ['t1', 'revoked', 'admin', true],
      ['t2', 'active', null, false],
      ['t3', 'revoked', 'client_request', false],
      ['t4', 'rotated', null, true],
      ['t5', 'revoked', 'admin', false],
    ];
    // The revocation stream first, then the grants (another topic, another order).
    const revocationFirst = [...events.filter((e) => e.streamId.startsWith('revocation-')), ...events.filter((e) => !e.streamId.startsWith('revocation-'))];
    await runner.handleBatch(details, revocationFirst);
    expect(await rows()).toEqual(expected);
    // Redelivered: no second effect.
    expect(await runner.handleBatch(details, events)).toBe(0);
    // From the store, in position order: the same rows.
    await runner.rebuild(details);
    expect(await rows()).toEqual(expected);
    // One event at a time (apply) comes to what one batch (applyBatch) came to.
    await env.db.transaction(async (manager) => {
      await details.clear(manager);
      for (const event of events) await details.apply(manager, event);
    });
    expect(await rows()).toEqual(expected);
    await runner.rebuild(details);
  });

  it('counts live tokens from the event store, as admin revocation answers them', async () => {
    const history = new PostgresRefreshGrantHistory(env.db);
    // t1 and t5 revoked by admin, t3 revoked, t4 rotated: t2 on desk is dave's only live token.
    expect(await history.countLive('dave', null)).toBe(1);
    expect(await history.countLive('dave', 'phone')).toBe(0);
    expect(await history.countLive('erin', null)).toBe(0);
    expect(await history.hasGrants('erin')).toBe(true);
    expect(await history.hasGrants('nobody')).toBe(false);
    const loaded = await history.load('t1');
    // Its TokenRefreshed decides nothing: left out, and counted in the version.
    expect(loaded.grant.map((e) => e.type)).toEqual([TOKEN_ISSUED]);
    expect(loaded.version).toBe(2);
    expect(loaded.revocations.map((e) => e.type)).toEqual([REFRESH_TOKENS_REVOKED]);
    expect(await history.load('nothing-here')).toEqual({ grant: [], version: 0, revocations: [] });
  });

  it('loads a grant refreshed many times as its deciding events and its version, whatever comes after the refreshes', async () => {
    const history = new PostgresRefreshGrantHistory(env.db);
    await append('grant-busy', issued('busy', 'fay', 'phone'), TOKEN_ISSUED);
    const refresh = { clientId: 'phone', userId: 'fay', tid: 'busy', accessToken: { jti: 'j', expiresAt: new Date().toISOString() } };
    for (let i = 0; i < 200; i++) await env.store.append('grant-busy', i + 1, [newEvent(TOKEN_REFRESHED, refresh)], context);
    let loaded = await history.load('busy');
    expect(loaded.grant.map((e) => [e.type, e.streamVersion])).toEqual([[TOKEN_ISSUED, 1]]);
    expect(loaded.version).toBe(201);
    await env.store.append('grant-busy', 201, [newEvent(TOKEN_REVOKED, { clientId: 'phone', userId: 'fay', tid: 'busy', reason: 'client_request' })], context);
    loaded = await history.load('busy');
    expect(loaded.grant.map((e) => [e.type, e.streamVersion])).toEqual([[TOKEN_ISSUED, 1], [TOKEN_REVOKED, 202]]);
    expect(loaded.version).toBe(202);
  });

  it('answers concurrent loads and revocation checks as it answers each alone, in fewer queries', async () => {
    const history = new PostgresRefreshGrantHistory(env.db);
    const tids = ['t1', 't2', 't3', 't4', 't5', 'busy', 'nothing-here'];
    const alone = [];
    for (const tid of tids) alone.push(await history.load(tid));
    const checks: [string, string, Date][] = [
      ['dave', 'phone', new Date(0)],
      ['dave', 'desk', new Date(0)],
      ['dave', 'phone', new Date(Date.now() + DAY)],
      ['erin', 'phone', new Date(0)],
      ['nobody', 'phone', new Date(0)],
    ];
    const answers = [];
    for (const check of checks) answers.push(await history.revokedSince(...check));
    expect(answers).toEqual([true, false, false, false, false]);
    const queries = jest.spyOn(env.db, 'prepared');
    try {
      const [together, checked] = await Promise.all([
        Promise.all(tids.map((tid) => history.load(tid))),
        Promise.all(checks.map((check) => history.revokedSince(...check))),
      ]);
      expect(together).toEqual(alone);
      expect(checked).toEqual(answers);
      // Of each kind, the first two find a free slot each (two batches in flight at most); the rest share one query.
      expect(queries.mock.calls.length).toBeLessThanOrEqual(6);
    } finally {
      queries.mockRestore();
    }
  });

  it('lists rows newest first with filters, and pages by cursor', async () => {
    const model = new PostgresRefreshTokenDetailsReadModel(env.db);
    const first = await model.list({ userId: 'dave' }, undefined, 2);
    expect(first.items.map((r) => r.pkid)).toEqual(['t5', 't4']);
    const second = await model.list({ userId: 'dave' }, first.next!, 2);
    expect(second.items.map((r) => r.pkid)).toEqual(['t2', 't1']);
    expect(second.next).toBeNull();
    expect((await model.list({ userId: 'dave', clientId: 'desk', state: 'active' }, undefined, 10)).items.map((r) => r.pkid)).toEqual(['t2']);
    expect((await model.list({ state: 'revoked' }, undefined, 10)).items.map((r) => r.pkid)).toEqual(['t5', 't3', 't1']);
  });

  it('shows an expired token as expired, and a purge run deletes what it deleted live again on a rebuild', async () => {
    await append('grant-old', issued('old', 'erin', 'phone', {}, -DAY), TOKEN_ISSUED);
    await runner.rebuild(details);
    const model = new PostgresRefreshTokenDetailsReadModel(env.db);
    expect((await model.list({ state: 'expired' }, undefined, 10)).items.map((r) => [r.pkid, r.state])).toEqual([['old', 'expired']]);
    const [row] = await env.db.query<{ validity: Date }>(`SELECT validity FROM refreshtokendetails WHERE pkid = 'old'`);
    await append('maintenance-purge', { cutoff: new Date().toISOString(), through: new Date(row.validity).toISOString(), count: 1, batches: 1, capped: false, durationMs: 1, trigger: 'manual' }, REFRESH_TOKENS_PURGED);
    await runner.rebuild(details);
    expect((await model.list({ userId: 'erin' }, undefined, 10)).items.map((r) => r.pkid)).toEqual(['t3']);
  });

  it('writes one audit row per event, in commit order, with who and what but never a token', async () => {
    await runner.rebuild(audit);
    const [{ events }] = await env.db.query<{ events: string }>('SELECT count(*) AS events FROM events');
    const entries = await env.db.query<{ seq: string; type: string; user_id: string; client_id: string; token_id: string; summary: string; actor: string }>(
      'SELECT * FROM audit_events ORDER BY seq',
    );
    expect(entries).toHaveLength(Number(events));
    const revocation = entries.find((e) => e.type === REFRESH_TOKENS_REVOKED)!;
    expect(revocation).toMatchObject({ user_id: 'dave', client_id: 'phone', actor: 'user:test', summary: 'admin revoked 1 refresh token of user dave on client phone' });
    expect(entries.find((e) => e.type === TOKEN_REVOKED)).toMatchObject({ token_id: 't3', summary: 'refresh token t3 of user erin revoked (client_request)' });
    expect(JSON.stringify(entries)).not.toContain('hash-');
  });

  it('keeps no stream versions for the audit, whose rows are keyed by position, and still applies a redelivered event once', async () => {
    const [issue] = await env.store.append('grant-audited', 0, [newEvent(TOKEN_ISSUED, issued('audited', 'gus', 'phone'))], context);
    expect(await runner.handleBatch(audit, [issue])).toBe(1);
    expect(await runner.handleBatch(audit, [issue, issue])).toBe(0);
    expect(await env.db.query(`SELECT 1 FROM audit_events WHERE position = $1`, [issue.position])).toHaveLength(1);
    expect(await env.db.query(`SELECT 1 FROM projection_stream_versions WHERE projection = 'audit'`)).toEqual([]);
  });

  it('ignores the grants of access tokens alone, moving its checkpoint past them without a stream version', async () => {
    const accessOnly = { ...issued('x', 'gus', 'svc'), refreshToken: undefined, grantType: 'client_credentials' as const };
    const [event] = await env.store.append('grant-access-only', 0, [newEvent(TOKEN_ISSUED, accessOnly)], context);
    expect(details.ignores(event)).toBe(true);
    expect(await runner.handleBatch(details, [event])).toBe(0);
    expect(await env.db.query(`SELECT 1 FROM projection_stream_versions WHERE stream_id = 'grant-access-only'`)).toEqual([]);
    const [checkpoint] = await env.db.query<{ position: string }>(`SELECT position FROM projection_checkpoints WHERE projection = 'refreshtokendetails'`);
    expect(Number(checkpoint.position)).toBeGreaterThanOrEqual(event.position);
  });

  it("keeps the last use of a refresh projected before its token (another stream, another partition), without stream versions", async () => {
    const at = () => new Date().toISOString();
    const [refreshed] = await env.store.append('grant-jti-early', 0, [newEvent(TOKEN_REFRESHED, { clientId: 'phone', userId: 'hal', tid: 'early', accessToken: { jti: 'jti-early', expiresAt: at() } })], context);
    const [issue] = await env.store.append('grant-early', 0, [newEvent(TOKEN_ISSUED, issued('early', 'hal', 'phone'))], context);
    expect(details.idempotent(refreshed)).toBe(true);
    await runner.handleBatch(details, [refreshed]);
    expect(await env.db.query(`SELECT 1 FROM refreshtokendetails WHERE pkid = 'early'`)).toEqual([]);
    expect(await env.db.query(`SELECT pkid FROM refresh_token_early_uses`)).toEqual([{ pkid: 'early' }]);
    await runner.handleBatch(details, [issue]);
    const [row] = await env.db.query<{ last_used_at: Date | null }>(`SELECT last_used_at FROM refreshtokendetails WHERE pkid = 'early'`);
    expect(row.last_used_at).not.toBeNull();
    expect(await env.db.query(`SELECT 1 FROM refresh_token_early_uses`)).toEqual([]);
    // In order, and redelivered: the same.
    const [later] = await env.store.append('grant-jti-later', 0, [newEvent(TOKEN_REFRESHED, { clientId: 'phone', userId: 'hal', tid: 'early', accessToken: { jti: 'jti-later', expiresAt: at() } })], context);
    await runner.handleBatch(details, [later]);
    await runner.handleBatch(details, [later]);
    const [again] = await env.db.query<{ last_used_at: Date }>(`SELECT last_used_at FROM refreshtokendetails WHERE pkid = 'early'`);
    expect(new Date(again.last_used_at).toISOString()).toBe(later.occurredAt);
    expect(await env.db.query(`SELECT 1 FROM projection_stream_versions WHERE stream_id LIKE 'grant-jti-%'`)).toEqual([]);
  });
});
