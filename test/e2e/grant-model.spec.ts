import { createHash, randomBytes } from 'node:crypto';
import { describeModes, modesFromEnv, startDeployment, type Deployment } from '../support/deployment';
import { waitFor } from '../support/infra';
import { decodeSegment, form, postSignIn } from '../support/oauth';
import { api, type Node } from '../support/processes';

const REDIRECT = 'https://app.example/callback';
const GRACE_SECONDS = 1;

/**
 * The grant model (issue 14): refreshes of one token that do not fight each other, a family
 * revoked in one event, and no refresh accepted after a revocation that committed first. The
 * races are between two server processes in cluster mode (not one process's batcher), and
 * counted in the event store; embedded mode, one process on one session, walks the same
 * paths, checked through the HTTP API.
 */
describeModes(modesFromEnv(), 'the refresh grant model (%s mode)', (mode) => {
  let d: Deployment;
  const cluster = mode === 'cluster';

  beforeAll(async () => {
    d = await startDeployment(mode, { name: 'grants', env: { AUTHZ_REFRESH_GRACE_SECONDS: String(GRACE_SECONDS) } });
    await rotation('Disabled', { oauthWithRefreshLoginFlow: 'Enabled' });
    expect((await api(`${d.a.url}/admin/users`, { method: 'POST', auth: d.admin, body: { userId: 'gina', password: 'gina-password', roles: [] } })).status).toBe(201);
    const client = await api(`${d.a.url}/admin/clients`, {
      method: 'POST',
      auth: d.admin,
      body: { clientId: 'app', clientName: 'App', type: 'public', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'] },
    });
    expect(client.status).toBe(201);
  });

  afterAll(async () => {
    await d?.stop();
  });

  /** Sets the rotation parameter and waits until every node's token endpoint reads it. */
  async function rotation(value: 'Enabled' | 'Disabled', more: Record<string, string> = {}): Promise<void> {
    expect((await api(`${d.a.url}/admin/parameters`, { method: 'PUT', auth: d.admin, body: { refreshTokenRotation: value, ...more } })).status).toBe(200);
    for (const node of d.nodes) {
      await waitFor(
        async () => {
          const now = (await api(`${node.url}/admin/parameters`, { auth: d.admin })).body;
          return now.refreshTokenRotation === value && Object.entries(more).every(([k, v]) => now[k] === v);
        },
        30_000,
        `rotation ${value}`,
      );
    }
  }

  async function login(): Promise<{ refresh: string; tid: string }> {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const params = { response_type: 'code', client_id: 'app', redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' };
    const posted = await postSignIn(d.a.url, params, 'gina', 'gina-password');
    const code = new URL(posted.headers.get('location')!).searchParams.get('code')!;
    const tokens = await form(`${d.a.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: 'app' });
    expect(tokens.status).toBe(200);
    return { refresh: tokens.body.refresh_token, tid: decodeSegment(tokens.body.refresh_token.split('.')[1]).tid };
  }

  const refresh = (node: Node, token: string) => form(`${node.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: token, client_id: 'app' });
  /** `n` refreshes of one token at once, every other one on the other node. */
  const race = (token: string, n: number) => Promise.all(Array.from({ length: n }, (_, i) => refresh(i % 2 === 0 ? d.a : d.b, token)));
  const audit = async (type: string) => (await api(`${d.a.url}/admin/audit?type=${type}&limit=500`, { auth: d.admin })).body.events as { tokenId?: string; summary: string }[];

  it('rotation off: 20 concurrent refreshes of one token split across the nodes all succeed, none appended to the grant', async () => {
    const { refresh: token, tid } = await login();
    const answers = await race(token, 20);
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => a.body.access_token)).size).toBe(20);
    if (cluster) {
      const [counts] = await d.query<{ refreshed: number; grant: number }>(
        `SELECT (SELECT count(*)::int FROM events WHERE type = 'TokenRefreshed' AND data->>'tid' = $1) AS refreshed,
                (SELECT max(stream_version) FROM events WHERE stream_id = $2) AS grant`,
        [tid, `grant-${tid}`],
      );
      // Each refresh is in the stream of the access token it gave: the grant stays at version 1.
      expect(counts).toEqual({ refreshed: 20, grant: 1 });
    } else {
      await d.caughtUp();
      expect((await audit('TokenRefreshed')).filter((e) => e.summary.includes(tid))).toHaveLength(20);
    }
  });

  it('rotation on: 20 concurrent first uses across the nodes make exactly one successor, which all of them get', async () => {
    await rotation('Enabled');
    try {
      const { refresh: token, tid } = await login();
      const answers = await race(token, 20);
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
      expect(new Set(answers.map((a) => a.body.refresh_token)).size).toBe(1);
      if (cluster) {
        const [counts] = await d.query<{ rotated: number; successors: number }>(
          `SELECT (SELECT count(*)::int FROM events WHERE type = 'RefreshTokenRotated' AND stream_id = $1) AS rotated,
                  (SELECT count(*)::int FROM events WHERE type = 'TokenIssued' AND data->>'parentTid' = $2) AS successors`,
          [`grant-${tid}`, tid],
        );
        expect(counts).toEqual({ rotated: 1, successors: 1 });
      } else {
        await d.caughtUp();
        expect((await audit('RefreshTokenRotated')).filter((e) => e.summary.includes(tid))).toHaveLength(1);
      }
    } finally {
      await rotation('Disabled');
    }
  });

  it('an admin revocation racing refreshes: no refresh that commits after it issues an access token', async () => {
    const { refresh: token, tid } = await login();
    const before = await race(token, 4);
    expect(before.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    const racing = race(token, 60);
    await new Promise((r) => setTimeout(r, 20));
    const revoked = await api(`${d.b.url}/ssosp/token/revoke?user_id=gina`, { method: 'POST', auth: d.admin });
    expect(revoked.status).toBe(200);
    const answers = await racing;
    for (const a of answers) expect([200, 400]).toContain(a.status);
    const refused = answers.filter((a) => a.status === 400);
    for (const a of refused) expect(a.body).toEqual({ error: 'invalid_grant', error_description: 'the refresh token was revoked' });
    // Every refresh after the revocation's answer is refused, on both nodes.
    expect((await refresh(d.a, token)).status).toBe(400);
    expect((await refresh(d.b, token)).status).toBe(400);
    if (cluster) {
      const [revocation] = await d.query<{ position: string }>(`SELECT position FROM events WHERE stream_id = 'revocation-gina' AND type = 'RefreshTokensRevoked' ORDER BY position DESC LIMIT 1`);
      const refreshes = await d.query<{ position: string; jti: string }>(
        `SELECT position, data->'accessToken'->>'jti' AS jti FROM events WHERE type = 'TokenRefreshed' AND data->>'tid' = $1`,
        [tid],
      );
      const late = refreshes.filter((r) => Number(r.position) > Number(revocation.position));
      expect(late).toEqual([]);
      // Every access token a client got was recorded before the revocation.
      const recorded = new Set(refreshes.map((r) => r.jti));
      expect(refreshes.length).toBe(4 + answers.filter((a) => a.status === 200).length);
      expect(recorded.size).toBe(refreshes.length);
    }
  });

  it('reuse of a rotated token revokes its whole family in one event, which a kill -9 right after cannot undo', async () => {
    await rotation('Enabled');
    try {
      const first = await login();
      const second = await refresh(d.b, first.refresh);
      expect(second.status).toBe(200);
      const third = await refresh(d.a, second.body.refresh_token);
      expect(third.status).toBe(200);
      await new Promise((r) => setTimeout(r, (GRACE_SECONDS + 0.5) * 1000));
      const reuse = await refresh(d.a, first.refresh);
      expect(reuse.status).toBe(400);
      expect(reuse.body.error_description).toMatch(/family is revoked/);
      // The node that decided dies at once, as in a crash; what it appended is all there is.
      await d.a.stop('SIGKILL');
      const restarted = await d.restart(d.a);
      for (const node of [restarted, d.b]) {
        for (const token of [second.body.refresh_token, third.body.refresh_token]) {
          const answer = await refresh(node, token);
          expect(answer.status).toBe(400);
          expect(answer.body.error).toBe('invalid_grant');
        }
      }
      if (cluster) {
        const events = await d.query<{ type: string; n: number }>(
          `SELECT type, count(*)::int AS n FROM events WHERE stream_id = 'revocation-gina' AND type = 'RefreshTokenFamilyRevoked' AND data->>'family' = $1 GROUP BY type`,
          [first.tid],
        );
        expect(events).toEqual([{ type: 'RefreshTokenFamilyRevoked', n: 1 }]);
        // No walk: the successors' own streams hold no revocation.
        const [walked] = await d.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM events WHERE type = 'TokenRevoked' AND data->>'tid' <> $1 AND stream_id IN
             (SELECT stream_id FROM events WHERE type = 'TokenIssued' AND data->>'family' = $1)`,
          [first.tid],
        );
        expect(walked.n).toBe(0);
      }
      await d.caughtUp();
      const rows = (await api(`${d.b.url}/admin/refresh-tokens?user_id=gina&limit=100`, { auth: d.admin })).body.tokens as { family: string; state: string; revokedReason: string }[];
      const family = rows.filter((r) => r.family === first.tid);
      expect(family).toHaveLength(3);
      expect(family.every((r) => r.state === 'revoked')).toBe(true);
      expect(family.map((r) => r.revokedReason)).toContain('reuse_detected');
      expect((await audit('RefreshTokenFamilyRevoked')).some((e) => e.summary.includes(first.tid))).toBe(true);
    } finally {
      await rotation('Disabled');
    }
  });
});
