import { describeModes, modesFromEnv, startDeployment, type Deployment } from '../support/deployment';
import { introspect, serviceClient, postSignIn, withoutEchoes } from '../support/oauth';
import { api, type Node } from '../support/processes';

const REDIRECT = 'https://rtmt.example/callback';
const LDAP = {
  AUTHZ_LDAP_URL: process.env.AUTHZ_TEST_LDAP_URL ?? 'ldap://127.0.0.1:13389',
  AUTHZ_LDAP_BASE_DN: process.env.AUTHZ_TEST_LDAP_BASE_DN ?? 'dc=authz,dc=test',
  AUTHZ_LDAP_BIND_DN: process.env.AUTHZ_TEST_LDAP_BIND_DN ?? 'cn=authz-reader,ou=services,dc=authz,dc=test',
  AUTHZ_LDAP_BIND_PASSWORD: process.env.AUTHZ_TEST_LDAP_BIND_PASSWORD ?? 'reader-password',
};

/**
 * Seed S4, non-SSO with LDAP: end users log in against the real slapd of scripts/ldap.sh, in
 * both modes (cluster: signed in on node A, the token introspected on node B).
 */
describeModes(modesFromEnv(), 'login against LDAP (%s mode)', (mode) => {
  let d: Deployment;
  let node: Node;

  beforeAll(async () => {
    d = await startDeployment(mode, { name: 'ldap', env: { AUTHZ_DIRECTORY: 'ldap', ...LDAP } });
    node = d.a;
    const admin = d.admin;
    const client = await api(`${node.url}/admin/clients`, { method: 'POST', auth: admin, body: { clientId: 'rtmt', clientName: 'RTMT', type: 'public', redirectUris: [REDIRECT], grantTypes: ['implicit'] } });
    expect(client.status).toBe(201);
    resourceServer = await serviceClient(node.url, admin, 'resource-server');
    // Cluster: the client reaches the nodes through its projection.
    if (mode === 'cluster') await d.caughtUp();
  });
  let resourceServer: { clientId: string; clientSecret: string };

  afterAll(async () => d?.stop());

  const login = (username: string, password: string) =>
    postSignIn(node.url, { response_type: 'token', client_id: 'rtmt', redirect_uri: REDIRECT }, username, password);

  it('signs in a directory user and issues a token for that user', async () => {
    const response = await login('alice', 'alice-password');
    expect(response.status).toBe(302);
    const fragment = new URLSearchParams(new URL(response.headers.get('location')!).hash.slice(1));
    expect(await introspect(d.b.url, resourceServer, fragment.get('access_token')!)).toMatchObject({ active: true, sub: 'alice' });
  });

  it('answers a wrong password and an unknown user with the same page', async () => {
    const wrong = await login('alice', 'bob-password');
    const unknown = await login('nobody-here', 'bob-password');
    const injection = await login('*)(uid=*', 'alice-password');
    for (const response of [wrong, unknown, injection]) expect(response.status).toBe(401);
    const pages = await Promise.all([wrong.text(), unknown.text(), injection.text()]);
    // Each keeps what was typed (escaped), and nothing else tells them apart.
    expect(pages[2]).toContain('value="*)(uid=*"');
    expect(new Set(pages.map(withoutEchoes)).size).toBe(1);
  });
});
