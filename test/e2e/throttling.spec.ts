import { describeModes, modesFromEnv, startDeployment, type Deployment } from '../support/deployment';
import { clientBasic, form, serviceClient, postSignIn } from '../support/oauth';
import { api, basic, type Node } from '../support/processes';

const REDIRECT = 'https://rtmt.example/callback';

/**
 * Failed logins and client authentications are throttled per account and per address: 429 with
 * Retry-After. Both modes (cluster: on node A, where the attempts are made).
 */
describeModes(modesFromEnv(), 'throttling of failed attempts (%s mode)', (mode) => {
  let d: Deployment;
  let node: Node;
  let admin: string;

  beforeAll(async () => {
    d = await startDeployment(mode, {
      name: 'throttle',
      env: { AUTHZ_THROTTLE_ACCOUNT_FAILURES: '3', AUTHZ_THROTTLE_ADDRESS_FAILURES: '50', AUTHZ_THROTTLE_WINDOW_SECONDS: '60' },
    });
    node = d.a;
    admin = d.admin;
    await api(`${node.url}/admin/users`, { method: 'POST', auth: admin, body: { userId: 'dave', password: 'dave-password', roles: [] } });
    await api(`${node.url}/admin/clients`, { method: 'POST', auth: admin, body: { clientId: 'rtmt', clientName: 'RTMT', type: 'public', redirectUris: [REDIRECT], grantTypes: ['implicit'] } });
    // Cluster: the client reaches the nodes through its projection.
    if (mode === 'cluster') await d.caughtUp();
  });

  afterAll(async () => d?.stop());

  const login = (username: string, password: string) =>
    postSignIn(node.url, { response_type: 'token', client_id: 'rtmt', redirect_uri: REDIRECT }, username, password);

  it('locks an account after its failed sign-ins, even for the right password, and says when to retry', async () => {
    for (let i = 0; i < 3; i++) expect((await login('dave', 'wrong-password')).status).toBe(401);
    const locked = await login('dave', 'dave-password');
    expect(locked.status).toBe(429);
    const retryAfter = Number(locked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await locked.text()).toContain('too many failed sign-ins');
    // Another account from the same address is not locked.
    expect((await login('admin', 'wrong-password')).status).toBe(401);
  });

  it('throttles failed client authentication at the token endpoint', async () => {
    const client = await serviceClient(node.url, admin, 'batch-job');
    for (let i = 0; i < 3; i++) {
      expect((await form(`${node.url}/oauth/token`, { grant_type: 'client_credentials' }, clientBasic('batch-job', 'wrong-secret'))).status).toBe(401);
    }
    const throttled = await form(`${node.url}/oauth/token`, { grant_type: 'client_credentials' }, clientBasic(client.clientId, client.clientSecret));
    expect(throttled.status).toBe(429);
    expect(throttled.body.error).toBe('too_many_requests');
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('throttles failed admin logins', async () => {
    for (let i = 0; i < 3; i++) expect((await api(`${node.url}/admin/parameters`, { auth: basic('admin', 'wrong') })).status).toBe(401);
    const throttled = await api(`${node.url}/admin/parameters`, { auth: admin });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toEqual(expect.stringMatching(/^\d+$/));
  });
});
