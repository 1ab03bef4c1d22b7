import {
  SignatureCache,
  createKeyRing,
  importEncryptionJwk,
  importPublicJwk,
  validateAccessToken,
  type AccessTokenClaims,
  type EncryptionJwk,
  type KeyRing,
  type PublicSigningJwk,
  type ValidationResult,
} from '@authz/tokens';

export interface AuthzServer {
  /** Base URL of an authz node, e.g. https://authz-1.example:8080 */
  url: string;
  /** An account with the key-reader role. */
  user: string;
  password: string;
}

export interface TokenValidatorOptions {
  /** One or more nodes of the same cluster, tried in order until one answers (seed S15). */
  servers: AuthzServer[];
  /** Refetch the keys at least this often, in ms (default 5 minutes). */
  refreshMs?: number;
  /** After an unknown kid, wait at least this long before refetching again (default 10 s): a flood of forged kids cannot make it hammer the servers. */
  unknownKidBackoffMs?: number;
  clockSkewSeconds?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

interface Keys {
  issuer: string;
  ring: KeyRing;
  fetchedAt: number;
  from: string;
}

export class KeyFetchError extends Error {}

/**
 * What a resource server (e.g. a voicemail server) embeds: it fetches the cluster's signing and
 * encryption keys with key-reader credentials from the first authz node that answers, and then
 * validates access tokens locally, without a call per token. After a key regeneration the first
 * token under the new key makes it refetch once.
 */
export class TokenValidator {
  private keys?: Keys;
  private loading?: Promise<Keys>;
  private lastUnknownKidFetch = 0;
  private readonly cache = new SignatureCache(10_000);

  constructor(private readonly options: TokenValidatorOptions) {
    if (options.servers.length === 0) throw new TypeError('at least one authz server is needed');
  }

  /** The issuer (cluster id) and the server the keys came from, once loaded. */
  get source(): { issuer: string; from: string } | undefined {
    return this.keys && { issuer: this.keys.issuer, from: this.keys.from };
  }

  async validate(token: string): Promise<ValidationResult<AccessTokenClaims>> {
    let keys = await this.current();
    let result = await validateAccessToken(token, keys.ring, { issuer: keys.issuer, cache: this.cache, clockSkewSeconds: this.options.clockSkewSeconds });
    if (!result.valid && result.code === 'unknown_key' && Date.now() - this.lastUnknownKidFetch > (this.options.unknownKidBackoffMs ?? 10_000)) {
      this.lastUnknownKidFetch = Date.now();
      keys = await this.refresh();
      result = await validateAccessToken(token, keys.ring, { issuer: keys.issuer, cache: this.cache, clockSkewSeconds: this.options.clockSkewSeconds });
    }
    return result;
  }

  private async current(): Promise<Keys> {
    if (this.keys && Date.now() - this.keys.fetchedAt < (this.options.refreshMs ?? 300_000)) return this.keys;
    return this.refresh();
  }

  /** One fetch at a time, whoever asks. */
  refresh(): Promise<Keys> {
    this.loading ??= this.fetchKeys().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async fetchKeys(): Promise<Keys> {
    const problems: string[] = [];
    for (const server of this.options.servers) {
      try {
        this.keys = await this.fetchFrom(server);
        return this.keys;
      } catch (error) {
        problems.push(`${server.url}: ${(error as Error).message}`);
      }
    }
    // Keep validating with the keys we have if every server is down.
    if (this.keys) return this.keys;
    throw new KeyFetchError(`no authz server gave its keys: ${problems.join('; ')}`);
  }

  private async fetchFrom(server: AuthzServer): Promise<Keys> {
    const doFetch = this.options.fetch ?? fetch;
    const response = await doFetch(new URL('/oauth/keys', server.url), {
      headers: { authorization: `Basic ${Buffer.from(`${server.user}:${server.password}`).toString('base64')}` },
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = (await response.json()) as { issuer?: unknown; keys?: unknown };
    if (typeof body.issuer !== 'string' || !Array.isArray(body.keys)) throw new Error('not a key set');
    const signing = body.keys.filter((k) => k?.kty === 'RSA').map((k) => importPublicJwk(k as PublicSigningJwk));
    const encryption = body.keys.filter((k) => k?.kty === 'oct').map((k) => importEncryptionJwk(k as EncryptionJwk));
    if (signing.length === 0 || encryption.length === 0) throw new Error('the key set lacks a signing or an encryption key');
    return { issuer: body.issuer, ring: createKeyRing(signing, encryption), fetchedAt: Date.now(), from: server.url };
  }
}
