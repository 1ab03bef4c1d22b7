import { createHash, randomBytes } from 'node:crypto';
import { KAFKA_BROKERS, createDatabase, uniqueName, waitFor } from '../support/infra';
import { probe } from '../support/kafka-probe';
import { form, postSignIn } from '../support/oauth';
import { api, basic, startNode, type Node } from '../support/processes';

const REDIRECT = 'https://app.example/callback';
const GRACE_SECONDS = 2;

/** Refresh token rotation (single use, reuse detection, grace window) in cluster mode, events on Kafka. */
describe('refresh token rotation', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let node: Node;
  let listener: Awaited<ReturnType<typeof probe>>;
  const prefix = uniqueName('rotation');
  const admin = basic('admin', 'rotation-admin-password');

  beforeAll(async () => {
    database = await createDatabase('authz_rotation');
    node = await startNode('server', {
      AUTHZ_DATABASE_URL: database.url,
      AUTHZ_KAFKA_BROKERS: KAFKA_BROKERS,
      AUTHZ_KAFKA_TOPIC_PREFIX: prefix,
      AUTHZ_ADMIN_USER: 'admin',
      AUTHZ_ADMIN_PASSWORD: 'rotation-admin-password',
      AUTHZ_KEK: randomBytes(32).toString('base64'),
      AUTHZ_RUN_PROJECTIONS: 'true',
      AUTHZ_REFRESH_GRACE_SECONDS: String(GRACE_SECONDS),
      AUTHZ_CODE_LIFETIME_SECONDS: '3',
    });
    listener = await probe([`${prefix}.grant`, `${prefix}.signin`]);
    const put = await api(`${node.url}/admin/parameters`, { method: 'PUT', auth: admin, body: { oauthWithRefreshLoginFlow: 'Enabled', refreshTokenRotation: 'Enabled' } });
    expect(put.status).toBe(200);
    expect((await api(`${node.url}/admin/users`, { method: 'POST', auth: admin, body: { userId: 'carol', password: 'carol-password', roles: [] } })).status).toBe(201);
    const client = await api(`${node.url}/admin/clients`, {
      method: 'POST',
      auth: admin,
      body: { clientId: 'jabber', clientName: 'Jabber', type: 'public', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'] },
    });
    expect(client.status).toBe(201);
    // The parameters reach the token endpoint through the projection.
    await waitFor(async () => (await api(`${node.url}/admin/parameters`, { auth: admin })).body.refreshTokenRotation === 'Enabled', 30_000, 'rotation on');
  });

  afterAll(async () => {
    await listener?.close();
    await node?.stop();
    await database?.drop();
  });

  async function login(): Promise<string> {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const params = { response_type: 'code', client_id: 'jabber', redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' };
    const posted = await postSignIn(node.url, params, 'carol', 'carol-password');
    const code = new URL(posted.headers.get('location')!).searchParams.get('code')!;
    const tokens = await form(`${node.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: 'jabber' });
    expect(tokens.status).toBe(200);
    return tokens.body.refresh_token;
  }

  const refresh = (token: string) => form(`${node.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: token, client_id: 'jabber' });

  it('answers each refresh with a successor, and the used token may not be used again', async () => {
    const first = await login();
    const one = await refresh(first);
    expect(one.status).toBe(200);
    expect(one.body.refresh_token).toEqual(expect.any(String));
    expect(one.body.refresh_token).not.toBe(first);
    const two = await refresh(one.body.refresh_token);
    expect(two.status).toBe(200);
    expect(two.body.refresh_token).not.toBe(one.body.refresh_token);
  });

  it('gives 20 concurrent refreshes with the same token the same successor, and revokes nothing', async () => {
    const token = await login();
    const answers = await Promise.all(Array.from({ length: 20 }, () => refresh(token)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => a.body.refresh_token)).size).toBe(1);
    expect(new Set(answers.map((a) => a.body.access_token)).size).toBe(20);
    const successor = answers[0].body.refresh_token;
    expect((await refresh(successor)).status).toBe(200);
  });

  it('after the grace window, a replayed token revokes its whole family and the event is on Kafka', async () => {
    const root = await login();
    const child = (await refresh(root)).body.refresh_token;
    const grandchild = (await refresh(child)).body.refresh_token;
    await new Promise((r) => setTimeout(r, (GRACE_SECONDS + 1) * 1000));
    const replay = await refresh(child);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    // Every token of the family is dead, the newest included.
    expect((await refresh(grandchild)).body.error).toBe('invalid_grant');
    expect((await refresh(root)).body.error).toBe('invalid_grant');
    const detected = await waitFor(
      () => listener.received.find((r) => r.event.type === 'RefreshTokenReuseDetected'),
      30_000,
      'RefreshTokenReuseDetected on Kafka',
    );
    expect(detected.event.data).toMatchObject({ clientId: 'jabber', userId: 'carol', family: expect.any(String), source: { address: expect.any(String) } });
    expect(JSON.stringify(listener.received)).not.toContain(child);
  });

  it('refuses a code that waited longer than its lifetime', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const params = { response_type: 'code', client_id: 'jabber', redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' };
    const posted = await postSignIn(node.url, params, 'carol', 'carol-password');
    const code = new URL(posted.headers.get('location')!).searchParams.get('code')!;
    await new Promise((r) => setTimeout(r, 3_500));
    const late = await form(`${node.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: 'jabber' });
    expect(late.status).toBe(400);
    expect(late.body).toMatchObject({ error: 'invalid_grant', error_description: 'the authorization code has expired' });
  });

  it('records sign-ins, failed ones too, without the password', async () => {
    const params = { response_type: 'code', client_id: 'jabber', redirect_uri: REDIRECT, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' };
    const failed = await postSignIn(node.url, params, 'carol', 'carols-wrong-password');
    expect(failed.status).toBe(401);
    const failure = await waitFor(() => listener.received.find((r) => r.event.type === 'SignInFailed'), 30_000, 'SignInFailed on Kafka');
    expect(failure.event.data).toMatchObject({ username: 'carol', clientId: 'jabber', directory: 'local', reason: 'bad_credentials' });
    const success = await waitFor(() => listener.received.find((r) => r.event.type === 'SignInSucceeded'), 30_000, 'SignInSucceeded on Kafka');
    expect(success.event.data).toMatchObject({ userId: 'carol', clientId: 'jabber' });
    const everything = JSON.stringify(listener.received);
    expect(everything).not.toContain('carols-wrong-password');
    expect(everything).not.toContain('carol-password');
  });
});
