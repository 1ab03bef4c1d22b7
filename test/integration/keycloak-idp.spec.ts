import { randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { KeycloakRealm, keycloakUrl } from '../support/keycloak';

// The real SAML 2.0 IdP of the SSO tests (issue 15): Keycloak from scripts/keycloak.sh, which
// scripts/test.sh starts once per run. This suite checks the test set-up itself: a realm, a
// SAML client for an SP and a user, and an SP-initiated sign-in driven over HTTP as a browser
// would (AuthnRequest by HTTP-Redirect, Keycloak's login form, the auto-posting SAMLResponse form).

const SP_ENTITY_ID = 'http://127.0.0.1:1/saml/metadata';
const ACS_URL = 'http://127.0.0.1:1/saml/acs';

/** A minimal cookie jar: Keycloak's login needs its AUTH_SESSION_ID / KC_RESTART cookies back. */
class Jar {
  private cookies = new Map<string, string>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

const unescapeHtml = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');

function authnRequest(id: string, destination: string): string {
  return (
    `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ` +
    `ID="${id}" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${destination}" ` +
    `ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" AssertionConsumerServiceURL="${ACS_URL}">` +
    `<saml:Issuer>${SP_ENTITY_ID}</saml:Issuer></samlp:AuthnRequest>`
  );
}

describe('Keycloak as a SAML 2.0 IdP (real server from scripts/keycloak.sh)', () => {
  let realm: KeycloakRealm;

  beforeAll(async () => {
    realm = await KeycloakRealm.create('authz-idp');
    await realm.addSamlClient({ entityId: SP_ENTITY_ID, acsUrl: ACS_URL });
    await realm.addUser('saml-alice');
  }, 60_000);

  afterAll(async () => {
    await realm?.remove();
  });

  it('publishes IdP metadata: entity id, a signing certificate and an HTTP-Redirect SSO endpoint', async () => {
    const res = await fetch(realm.idpMetadataUrl);
    expect(res.status).toBe(200);
    const xml = await res.text();
    expect(xml).toContain(`entityID="${realm.idpEntityId}"`);
    expect(xml).toMatch(/<(ds:|dsig:)?X509Certificate>[A-Za-z0-9+/=\s]{200,}<\/(ds:|dsig:)?X509Certificate>/);
    expect(xml).toContain('Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"');
    expect(xml).toContain(`Location="${keycloakUrl}/realms/${realm.name}/protocol/saml"`);
  });

  it('registers a SAML client from an SP metadata document', async () => {
    const entityId = 'http://127.0.0.1:2/saml/metadata';
    const spMetadata =
      `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${entityId}">` +
      `<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" AuthnRequestsSigned="false" WantAssertionsSigned="true">` +
      `<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>` +
      `<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="http://127.0.0.1:2/saml/acs" index="1"/>` +
      `</md:SPSSODescriptor></md:EntityDescriptor>`;
    await realm.addSamlClientFromMetadata(spMetadata);
    const client = await realm.client(entityId);
    expect(client).toMatchObject({ clientId: entityId, protocol: 'saml' });
    expect((client!.attributes as Record<string, string>).saml_assertion_consumer_url_post).toBe('http://127.0.0.1:2/saml/acs');
  });

  it('signs a user in for the SP: login form, then a signed SAMLResponse posted to the ACS', async () => {
    const sso = `${keycloakUrl}/realms/${realm.name}/protocol/saml`;
    const id = `_${randomBytes(16).toString('hex')}`;
    const jar = new Jar();
    const query = new URLSearchParams({
      SAMLRequest: deflateRawSync(Buffer.from(authnRequest(id, sso))).toString('base64'),
      RelayState: 'relay-123',
    });
    const loginPage = await fetch(`${sso}?${query}`, { redirect: 'follow' });
    jar.take(loginPage);
    expect(loginPage.status).toBe(200);
    const html = await loginPage.text();
    const action = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(html)?.[1];
    expect(action).toBeDefined();

    const posted = await fetch(unescapeHtml(action!), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
      body: new URLSearchParams({ username: 'saml-alice', password: 'saml-alice-password', credentialId: '' }),
    });
    expect(posted.status).toBe(200);
    const form = await posted.text();
    expect(unescapeHtml(/<form[^>]*action="([^"]+)"/i.exec(form)?.[1] ?? '')).toBe(ACS_URL);
    const samlResponse = /name="SAMLResponse"\s+value="([^"]+)"/.exec(form)?.[1];
    expect(/name="RelayState"\s+value="([^"]+)"/.exec(form)?.[1]).toBe('relay-123');
    const xml = Buffer.from(samlResponse!, 'base64').toString('utf8');
    expect(xml).toContain(`InResponseTo="${id}"`);
    expect(xml).toContain(`Destination="${ACS_URL}"`);
    expect(xml).toContain(realm.idpEntityId);
    expect(xml).toMatch(/<saml:Audience>http:\/\/127\.0\.0\.1:1\/saml\/metadata<\/saml:Audience>/);
    expect(xml).toMatch(/NameID[^>]*>saml-alice</);
    expect(xml).toMatch(/Name="uid"[\s\S]*?>saml-alice</);
    expect(xml).toMatch(/SignatureValue/);
  });

  it('refuses a wrong password on its own login page (no SAMLResponse)', async () => {
    const sso = `${keycloakUrl}/realms/${realm.name}/protocol/saml`;
    const jar = new Jar();
    const query = new URLSearchParams({ SAMLRequest: deflateRawSync(Buffer.from(authnRequest(`_${randomBytes(16).toString('hex')}`, sso))).toString('base64') });
    const loginPage = await fetch(`${sso}?${query}`);
    jar.take(loginPage);
    const action = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(await loginPage.text())![1];
    const posted = await fetch(unescapeHtml(action), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
      body: new URLSearchParams({ username: 'saml-alice', password: 'wrong', credentialId: '' }),
    });
    expect(await posted.text()).not.toContain('SAMLResponse');
  });
});
