import { createHash, randomBytes } from 'node:crypto';
import { describeModes, modesFromEnv, startDeployment, type Deployment } from '../support/deployment';
import { waitFor } from '../support/infra';
import { probe } from '../support/kafka-probe';
import { decodeSegment, form, postSignIn } from '../support/oauth';
import { api, type Node } from '../support/processes';

const REDIRECT = 'https://app.example/callback';
const GRACE_SECONDS = 2;

/**
 * Refresh token rotation (single use, reuse detection, grace window), in both modes. What the
 * events say is read from the audit history in both; in cluster mode also from the Kafka
 * topics, as any consumer of authz sees them, with sign-in and refresh on different nodes.
 */
describeModes(modesFromEnv(), 'refresh token rotation (%s mode)', (mode) => {
  let d: Deployment;
  let listener: Awaited<ReturnType<typeof probe>> | undefined;
  const cluster = mode === 'cluster';

  beforeAll(async () => {
    d = await startDeployment(mode, {
      name: 'rotation',
      env: { AUTHZ_REFRESH_GRACE_SECONDS: String(GRACE_SECONDS), AUTHZ_CODE_LIFETIME_SECONDS: '3' },
    });
    if (cluster) listener = await probe([`${d.topicPrefix}.grant`, `${d.topicPrefix}.signin`]);
    const put = await api(`${d.a.url}/admin/parameters`, { method: 'PUT', auth: d.admin, body: { oauthWithRefreshLoginFlow: 'Enabled', refreshTokenRotation: 'Enabled' } });
    expect(put.status).toBe(200);
    expect((await api(`${d.a.url}/admin/users`, { method: 'POST', auth: d.admin, body: { userId: 'carol', password: 'carol-password', roles: [] } })).status).toBe(201);
    const client = await api(`${d.a.url}/admin/clients`, {
      method: 'POST',
      auth: d.admin,
      body: { clientId: 'jabber', clientName: 'Jabber', type: 'public', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'] },
    });
    expect(client.status).toBe(201);
    // The parameters reach the token endpoint of every node through the projection.
    for (const node of d.nodes) {
      await waitFor(async () => (await api(`${node.url}/admin/parameters`, { auth: d.admin })).body.refreshTokenRotation === 'Enabled', 30_000, 'rotation on');
    }
    await d.caughtUp();
  });

  afterAll(async () => {
    await listener?.close();
    await d?.stop();
  });

  /** Signs carol in on node A (the one node in embedded mode) and answers her refresh token. */
  async function login(): Promise<string> {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const params = { response_type: 'code', client_id: 'jabber', redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' };
    const posted = await postSignIn(d.a.url, params, 'carol', 'carol-password');
    const code = new URL(posted.headers.get('location')!).searchParams.get('code')!;
    const tokens = await form(`${d.a.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: 'jabber' });
    expect(tokens.status).toBe(200);
    return tokens.body.refresh_token;
  }

  /** A refresh on node B by default: "the other node" (the same one in embedded mode). */
  const refresh = (token: string, node: Node = d.b) => form(`${node.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: token, client_id: 'jabber' });

  /** The audit history's entries of one type, newest first (once the audit has caught up). */
  async function audited(type: string) {
    await d.caughtUp();
    const answer = await api(`${d.a.url}/admin/audit?type=${type}&limit=500`, { auth: d.admin });
    expect(answer.status).toBe(200);
    return answer.body.events as { actor: string; userId: string | null; clientId: string | null; tokenId: string | null; summary: string }[];
  }

  it('answers each refresh with a successor, and the used token may not be used again', async () => {
    const first = await login();
    const one = await refresh(first);
    expect(one.status).toBe(200);
    expect(one.body.refresh_token).toEqual(expect.any(String));
    expect(one.body.refresh_token).not.toBe(first);
    const two = await refresh(one.body.refresh_token, d.a);
    expect(two.status).toBe(200);
    expect(two.body.refresh_token).not.toBe(one.body.refresh_token);
  });

  it('gives 20 concurrent refreshes with the same token the same successor (on both nodes in a cluster), and revokes nothing', async () => {
    const token = await login();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => refresh(token, i % 2 ? d.b : d.a)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => a.body.refresh_token)).size).toBe(1);
    expect(new Set(answers.map((a) => a.body.access_token)).size).toBe(20);
    const successor = answers[0].body.refresh_token;
    expect((await refresh(successor)).status).toBe(200);
  });

  it('after the grace window, a replayed token revokes its whole family; the event is in the audit (cluster: and on Kafka)', async () => {
    const root = await login();
    const child = (await refresh(root)).body.refresh_token;
    const grandchild = (await refresh(child, d.a)).body.refresh_token;
    await new Promise((r) => setTimeout(r, (GRACE_SECONDS + 1) * 1000));
    const replay = await refresh(child);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    // Every token of the family is dead, the newest included.
    expect((await refresh(grandchild, d.a)).body.error).toBe('invalid_grant');
    expect((await refresh(root)).body.error).toBe('invalid_grant');

    // The replayed child is a reuse (so is the root's use after it): the audit names the token by its id, never the token.
    const childTid = decodeSegment(child.split('.')[1]).tid as string;
    const reuse = (await audited('RefreshTokenReuseDetected')).find((e) => e.tokenId === childTid);
    expect(reuse).toMatchObject({ userId: 'carol', clientId: 'jabber', summary: expect.stringMatching(new RegExp(`^reuse of rotated refresh token ${childTid} from \\S+`)) });
    expect(reuse!.summary).not.toContain('an unknown address');
    const history = JSON.stringify((await api(`${d.a.url}/admin/audit?limit=500`, { auth: d.admin })).body);
    for (const token of [root, child, grandchild]) expect(history).not.toContain(token);

    if (listener) {
      const received = listener.received;
      const detected = await waitFor(() => received.find((r) => r.event.type === 'RefreshTokenReuseDetected'), 30_000, 'RefreshTokenReuseDetected on Kafka');
      expect(detected.event.data).toMatchObject({ clientId: 'jabber', userId: 'carol', family: expect.any(String), source: { address: expect.any(String) } });
      expect(JSON.stringify(received)).not.toContain(child);
    }
  });

  it('refuses a code that waited longer than its lifetime', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const params = { response_type: 'code', client_id: 'jabber', redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' };
    const posted = await postSignIn(d.a.url, params, 'carol', 'carol-password');
    const code = new URL(posted.headers.get('location')!).searchParams.get('code')!;
    await new Promise((r) => setTimeout(r, 3_500));
    const late = await form(`${d.b.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: 'jabber' });
    expect(late.status).toBe(400);
    expect(late.body).toMatchObject({ error: 'invalid_grant', error_description: 'the authorization code has expired' });
  });

  it('records sign-ins, failed ones too, without the password (in the audit; cluster: on Kafka)', async () => {
    const params = { response_type: 'code', client_id: 'jabber', redirect_uri: REDIRECT, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' };
    const failed = await postSignIn(d.a.url, params, 'carol', 'carols-wrong-password');
    expect(failed.status).toBe(401);

    const [failure] = await audited('SignInFailed');
    expect(failure).toMatchObject({ userId: 'carol', clientId: 'jabber', summary: 'sign-in failed for carol (local) on client jabber' });
    expect(await audited('SignInSucceeded')).toEqual(expect.arrayContaining([expect.objectContaining({ userId: 'carol', clientId: 'jabber' })]));
    const history = JSON.stringify((await api(`${d.a.url}/admin/audit?limit=500`, { auth: d.admin })).body);
    expect(history).not.toContain('carols-wrong-password');
    expect(history).not.toContain('carol-password');

    if (listener) {
      const received = listener.received;
      const kafkaFailure = await waitFor(() => received.find((r) => r.event.type === 'SignInFailed'), 30_000, 'SignInFailed on Kafka');
      expect(kafkaFailure.event.data).toMatchObject({ username: 'carol', clientId: 'jabber', directory: 'local', reason: 'bad_credentials' });
      const success = await waitFor(() => received.find((r) => r.event.type === 'SignInSucceeded'), 30_000, 'SignInSucceeded on Kafka');
      expect(success.event.data).toMatchObject({ userId: 'carol', clientId: 'jabber' });
      const everything = JSON.stringify(received);
      expect(everything).not.toContain('carols-wrong-password');
      expect(everything).not.toContain('carol-password');
    }
  });
});
