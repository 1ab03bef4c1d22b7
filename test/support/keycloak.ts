import { randomBytes } from 'node:crypto';

// A real Keycloak (scripts/keycloak.sh; scripts/test.sh starts it once per run) driven through
// its admin REST API: a realm of the test's own (unique name: the database is kept between
// runs), a SAML client for authz's service provider and users. Nothing here is authz code.

export const keycloakUrl = (process.env.AUTHZ_TEST_KEYCLOAK_URL ?? 'http://127.0.0.1:18080').replace(/\/$/, '');
const adminUser = process.env.AUTHZ_TEST_KEYCLOAK_ADMIN_USER ?? 'admin';
const adminPassword = process.env.AUTHZ_TEST_KEYCLOAK_ADMIN_PASSWORD ?? 'admin-password';

export interface SamlClientOptions {
  /** The SP's entity id: Keycloak's clientId and the audience of its assertions. */
  entityId: string;
  /** The SP's assertion consumer service (HTTP-POST binding). */
  acsUrl: string;
  /** Sign the whole Response (default true) and/or the assertion (default true). */
  signResponse?: boolean;
  signAssertion?: boolean;
  /** Keycloak requires signed AuthnRequests from the SP only when this is set (PEM, no headers or with). */
  spSigningCertificate?: string;
}

export interface KeycloakUser {
  username: string;
  password: string;
  email: string;
}

async function check(res: Response, what: string): Promise<Response> {
  if (!res.ok) throw new Error(`Keycloak ${what}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

export async function adminToken(): Promise<string> {
  const res = await fetch(`${keycloakUrl}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: adminUser, password: adminPassword }),
  });
  await check(res, 'admin token (is it running? bash scripts/keycloak.sh up)');
  return ((await res.json()) as { access_token: string }).access_token;
}

/** A realm of its own for one suite; `remove()` deletes it again. */
export class KeycloakRealm {
  private constructor(
    readonly name: string,
    private token: string,
  ) {}

  static async create(prefix = 'authz'): Promise<KeycloakRealm> {
    const name = `${prefix}-${randomBytes(4).toString('hex')}`;
    const token = await adminToken();
    const realm = new KeycloakRealm(name, token);
    await realm.admin('POST', '', { realm: name, enabled: true, sslRequired: 'none' }, '/admin/realms');
    return realm;
  }

  /** The realm's IdP entity id (the Issuer of its responses). */
  get idpEntityId(): string {
    return `${keycloakUrl}/realms/${this.name}`;
  }

  /** The realm's SAML 2.0 IdP metadata (EntityDescriptor with its signing certificate). */
  get idpMetadataUrl(): string {
    return `${keycloakUrl}/realms/${this.name}/protocol/saml/descriptor`;
  }

  async admin(method: string, path: string, body?: unknown, base = `/admin/realms/${this.name}`): Promise<Response> {
    const send = () =>
      fetch(`${keycloakUrl}${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': typeof body === 'string' ? 'application/xml' : 'application/json' }) },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
    let res = await send();
    if (res.status === 401) {
      this.token = await adminToken(); // master-realm admin tokens live 60 s
      res = await send();
    }
    return check(res, `${method} ${base}${path}`);
  }

  /** A SAML client as an SP's metadata describes it (Keycloak's own converter), stored as is. */
  async addSamlClientFromMetadata(spMetadataXml: string): Promise<Record<string, unknown>> {
    const rep = (await (await this.admin('POST', '/client-description-converter', spMetadataXml)).json()) as Record<string, unknown>;
    await this.admin('POST', '/clients', rep);
    return rep;
  }

  /** A SAML client for authz's SP: NameID = the username, plus a `uid` attribute. */
  async addSamlClient(options: SamlClientOptions): Promise<void> {
    const attributes: Record<string, string> = {
      saml_assertion_consumer_url_post: options.acsUrl,
      'saml.server.signature': String(options.signResponse ?? true),
      'saml.assertion.signature': String(options.signAssertion ?? true),
      'saml.client.signature': String(options.spSigningCertificate !== undefined),
      'saml.force.name.id.format': 'true',
      saml_name_id_format: 'username',
      'saml.signature.algorithm': 'RSA_SHA256',
    };
    if (options.spSigningCertificate) {
      attributes['saml.signing.certificate'] = options.spSigningCertificate.replace(/-----[A-Z ]+-----|\s+/g, '');
    }
    await this.admin('POST', '/clients', {
      clientId: options.entityId,
      protocol: 'saml',
      enabled: true,
      frontchannelLogout: false,
      redirectUris: [options.acsUrl],
      attributes,
      protocolMappers: [
        {
          name: 'uid',
          protocol: 'saml',
          protocolMapper: 'saml-user-property-mapper',
          config: { 'user.attribute': 'username', 'attribute.name': 'uid', 'attribute.nameformat': 'Basic' },
        },
      ],
    });
  }

  async client(clientId: string): Promise<Record<string, unknown> | undefined> {
    const list = (await (await this.admin('GET', `/clients?clientId=${encodeURIComponent(clientId)}`)).json()) as Record<string, unknown>[];
    return list[0];
  }

  /** A user who can sign in at once (no required actions: names and a verified e-mail given). */
  async addUser(username: string, password = `${username}-password`): Promise<KeycloakUser> {
    const email = `${username}@authz.test`;
    await this.admin('POST', '/users', {
      username,
      enabled: true,
      email,
      emailVerified: true,
      firstName: username,
      lastName: 'Test',
      credentials: [{ type: 'password', value: password, temporary: false }],
    });
    return { username, password, email };
  }

  async remove(): Promise<void> {
    await this.admin('DELETE', '');
  }
}
