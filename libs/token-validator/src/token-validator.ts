import { decodeSigned, decodeStrict, hasExactKeys, parseJsonObject, type JsonObject } from './compact.js';
import { aadOf, clusterOf, decrypt, importEncryptionJwk, importSigningJwk, verifyRs256, type Aad, type DecryptionKey, type VerificationKey } from './crypto.js';

export interface ServerConfig {
  /** Base URL of an authz node, e.g. https://authz-a1.example:8443. */
  url: string;
  /** An account with the key-reader role on that node's cluster. */
  credentials: { username: string; password: string };
}

export interface TokenValidatorOptions {
  /**
   * The authz nodes to fetch keys from. Nodes of one cluster (same cluster id) fail over to one
   * another; nodes of other clusters add clusters. Which is which is learnt from their answers.
   */
  servers: ServerConfig[];
  /** Refetch every cluster's keys this often, in ms (default 300000: 5 minutes; 0: never). */
  refreshIntervalMs?: number;
  /** After a refetch caused by an unknown kid or cluster, wait at least this long before the next one for that cluster, in ms (default 10000). */
  unknownKidRefetchIntervalMs?: number;
  /** Tolerated clock difference with the minting node, in seconds (default 30). */
  clockSkewSeconds?: number;
  /** Time limit of one key fetch, in ms (default 5000). */
  timeoutMs?: number;
  /** Tokens that passed every check, kept by their exact text with their claims (default 10000; 0: off). Expiry is checked on every hit. */
  cacheSize?: number;
  /** Verify RSA on the calling thread instead of the libuv pool (for one event loop per core). Default false. */
  verifyInline?: boolean;
  /** The fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

export type TokenErrorCode =
  | 'too_large'
  | 'malformed'
  | 'bad_signature'
  | 'unknown_cluster'
  | 'unknown_key'
  | 'bad_encryption'
  | 'wrong_type'
  | 'wrong_issuer'
  | 'expired'
  | 'keys_unavailable';

export interface AccessTokenClaims {
  iss: string;
  sub: string;
  client_id: string;
  scope: string;
  iat: number;
  exp: number;
  jti: string;
  token_type: 'access';
  [claim: string]: unknown;
}

export type ValidationResult =
  | { valid: true; claims: Readonly<AccessTokenClaims>; clusterId: string }
  | { valid: false; code: TokenErrorCode; reason: string };

type Rejection = Extract<ValidationResult, { valid: false }>;

export interface ClusterStatus {
  clusterId: string;
  urls: string[];
  /** The URL the current keys came from, when, and their kids. */
  from: string;
  fetchedAt: Date;
  signingKids: string[];
  encryptionKids: string[];
}

export interface SyncResult {
  clusters: ClusterStatus[];
  /** URLs that did not give their keys on this sync, with why. */
  errors: { url: string; error: string }[];
}

export const MAX_TOKEN_LENGTH = 16 * 1024;

interface KeySet {
  signing: Map<string, VerificationKey>;
  encryption: Map<string, DecryptionKey>;
  from: string;
  fetchedAt: number;
}

interface Cluster {
  id: string;
  urls: ServerConfig[];
  keys: KeySet;
  loading?: Promise<void>;
  lastUnknownRefetch: number;
}

interface Cached {
  claims: Readonly<AccessTokenClaims>;
  cluster: Cluster;
  signing: VerificationKey;
  encryption: DecryptionKey;
}

const reject = (code: TokenErrorCode, reason: string): Rejection => ({ valid: false, code, reason });
const JWS_HEADER_KEYS = ['alg', 'typ', 'kid'];
const JWE_HEADER_KEYS = ['alg', 'cty', 'enc', 'kid'];
const MEMO_MAX = 64;

class KeyFetchError extends Error {}

/**
 * What a resource server embeds (seed S15): it fetches the signing and encryption keys of one
 * or more authz clusters with key-reader credentials, and validates access tokens locally.
 * Each token goes to the cluster its kid names. Never throws from validate().
 */
export class TokenValidator {
  private readonly clusters = new Map<string, Cluster>();
  /** Servers whose cluster is not known yet (they have not answered). */
  private unassigned: ServerConfig[];
  private lastUnassignedTry = 0;
  private initial?: Promise<SyncResult>;
  private syncing?: Promise<SyncResult>;
  private lastError = '';
  private readonly timer?: NodeJS.Timeout;
  private readonly cache = new Map<string, Cached>();
  private readonly jwsHeaders = new Map<string, string>();
  private readonly jweHeaders = new Map<string, { kid: string; aad: Aad }>();
  private readonly skew: number;
  private readonly cacheSize: number;
  private closed = false;

  constructor(private readonly options: TokenValidatorOptions) {
    if (!Array.isArray(options?.servers) || options.servers.length === 0) throw new TypeError('at least one authz server is needed');
    for (const server of options.servers) {
      if (typeof server?.url !== 'string' || typeof server.credentials?.username !== 'string' || typeof server.credentials?.password !== 'string') {
        throw new TypeError('each server needs a url and credentials { username, password }');
      }
      new URL(server.url);
    }
    this.unassigned = [...options.servers];
    const skew = options.clockSkewSeconds ?? 30;
    this.skew = Number.isFinite(skew) && skew >= 0 ? skew : 30;
    this.cacheSize = options.cacheSize ?? 10_000;
    const every = options.refreshIntervalMs ?? 300_000;
    if (every > 0) {
      this.timer = setInterval(() => void this.sync().catch(() => undefined), every);
      this.timer.unref();
    }
  }

  /** Validates an access token locally. Never throws: every refusal has a stable code. */
  async validate(token: string): Promise<ValidationResult> {
    try {
      if (typeof token !== 'string') return reject('malformed', 'the token is not a string');
      if (token.length > MAX_TOKEN_LENGTH) return reject('too_large', `the token is longer than ${MAX_TOKEN_LENGTH} characters`);
      const hit = this.cache.get(token);
      if (hit) {
        const { cluster, claims } = hit;
        if (cluster.keys.signing.get(hit.signing.kid) === hit.signing && cluster.keys.encryption.get(hit.encryption.kid) === hit.encryption) {
          if (Math.floor(Date.now() / 1000) > claims.exp + this.skew) {
            this.cache.delete(token);
            return reject('expired', 'the token has expired');
          }
          return { valid: true, claims, clusterId: cluster.id };
        }
        this.cache.delete(token);
      }
      return await this.check(token);
    } catch {
      return reject('malformed', 'the token could not be read');
    }
  }

  /** Fetches the keys of every configured server now (Unity's "synchronize keys"). */
  sync(): Promise<SyncResult> {
    this.syncing ??= this.fetchAll().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  /** The clusters known and their keys. */
  status(): { clusters: ClusterStatus[]; unassigned: string[]; lastError: string } {
    return { clusters: [...this.clusters.values()].map(statusOf), unassigned: this.unassigned.map((s) => s.url), lastError: this.lastError };
  }

  /** Stops the scheduled refetch and forgets the keys. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([this.syncing, this.initial, ...[...this.clusters.values()].map((c) => c.loading)]);
    this.cache.clear();
    this.clusters.clear();
  }

  private async check(token: string): Promise<ValidationResult> {
    const parts = token.split('.');
    if (parts.length !== 3) return reject('malformed', 'the token is not a compact JWS');
    const [encodedHeader, encodedPayload, encodedSignature] = parts;
    const kid = this.kidOf(encodedHeader);
    if (typeof kid !== 'string') return kid;
    const clusterId = clusterOf(kid);
    if (!clusterId) return reject('malformed', 'the token kid names no cluster');

    if (this.clusters.size === 0) {
      this.initial ??= this.sync();
      await this.initial;
      if (this.clusters.size === 0) return reject('keys_unavailable', `no authz server gave its keys: ${this.lastError}`);
    }
    let cluster = this.clusters.get(clusterId);
    if (!cluster && this.unassigned.length > 0 && Date.now() - this.lastUnassignedTry >= this.refetchInterval()) {
      this.lastUnassignedTry = Date.now();
      await this.sync();
      cluster = this.clusters.get(clusterId);
    }
    if (!cluster) return reject('unknown_cluster', `the token comes from cluster ${clusterId}, which is not configured`);

    let key = cluster.keys.signing.get(kid);
    if (!key && (await this.refetchForUnknown(cluster))) key = cluster.keys.signing.get(kid);
    if (!key) return reject('unknown_key', 'the token is signed with a key that is not current');

    const signature = decodeStrict(encodedSignature);
    if (!signature) return reject('malformed', 'the token signature is not base64url');
    if (signature.length * 8 !== key.modulusBits) return reject('malformed', 'the token signature has the wrong length');
    let verified = false;
    try {
      verified = await verifyRs256(token.slice(0, encodedHeader.length + 1 + encodedPayload.length), signature, key.publicKey, this.options.verifyInline ?? false);
    } catch {
      // impossible signatures (e.g. above the modulus) throw rather than say false
    }
    if (!verified) return reject('bad_signature', 'the token signature does not match');

    const payload = parseJsonObject(decodeSigned(encodedPayload));
    if (!payload) return reject('malformed', 'the token payload is not a JSON object');
    if (typeof payload.private !== 'string') {
      return payload.ctyp !== undefined ? reject('wrong_type', 'this is a refresh token, not an access token') : reject('malformed', 'the token payload has no private claim');
    }
    if (!hasExactKeys(payload, ['private'])) return reject('malformed', 'the token payload holds more than the private claim');

    const inner = await this.openJwe(payload.private, cluster);
    if ('valid' in inner) return inner;
    const { claims, encryption } = inner;
    if (claims.token_type !== 'access') return reject('wrong_type', 'this is not an access token');
    if (claims.iss !== cluster.id) return reject('wrong_issuer', 'the token names another cluster as its issuer');
    if (typeof claims.exp !== 'number' || !Number.isSafeInteger(claims.exp)) return reject('malformed', 'the token has no valid exp claim');
    if (Math.floor(Date.now() / 1000) > claims.exp + this.skew) return reject('expired', 'the token has expired');
    if (!isAccessClaims(claims)) return reject('malformed', 'the token lacks a required claim');
    const frozen = Object.freeze(claims);
    if (this.cacheSize > 0) {
      if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(token, { claims: frozen, cluster, signing: key, encryption });
    }
    return { valid: true, claims: frozen, clusterId: cluster.id };
  }

  private kidOf(encodedHeader: string): string | Rejection {
    const known = this.jwsHeaders.get(encodedHeader);
    if (known !== undefined) return known;
    const header = parseJsonObject(decodeStrict(encodedHeader));
    if (!header) return reject('malformed', 'the token header is not a JSON object');
    if (header.alg !== 'RS256') return reject('bad_signature', 'the token is not signed with RS256');
    if (!hasExactKeys(header, JWS_HEADER_KEYS) || header.typ !== 'JWT' || typeof header.kid !== 'string') {
      return reject('malformed', 'the token header is not {alg, typ: JWT, kid}');
    }
    if (this.jwsHeaders.size >= MEMO_MAX) this.jwsHeaders.clear();
    this.jwsHeaders.set(encodedHeader, header.kid);
    return header.kid;
  }

  private async openJwe(jwe: string, cluster: Cluster): Promise<{ claims: JsonObject; encryption: DecryptionKey } | Rejection> {
    const parts = jwe.split('.');
    if (parts.length !== 5) return reject('bad_encryption', 'the inner token is not a compact JWE');
    const [encodedHeader, encryptedKey, iv, ciphertext, tag] = parts;
    let header = this.jweHeaders.get(encodedHeader);
    if (!header) {
      const parsed = parseJsonObject(decodeSigned(encodedHeader));
      if (!parsed || parsed.alg !== 'dir' || parsed.enc !== 'A128CBC-HS256') return reject('bad_encryption', 'the inner token is not encrypted with dir + A128CBC-HS256');
      if (!hasExactKeys(parsed, JWE_HEADER_KEYS) || parsed.cty !== 'JWT' || typeof parsed.kid !== 'string') {
        return reject('bad_encryption', 'the inner token header is not {alg, cty: JWT, enc, kid}');
      }
      header = { kid: parsed.kid, aad: aadOf(encodedHeader) };
      if (this.jweHeaders.size >= MEMO_MAX) this.jweHeaders.clear();
      this.jweHeaders.set(encodedHeader, header);
    }
    if (clusterOf(header.kid) !== cluster.id) return reject('unknown_key', 'the token is encrypted with a key of another cluster');
    let key = cluster.keys.encryption.get(header.kid);
    if (!key && (await this.refetchForUnknown(cluster))) key = cluster.keys.encryption.get(header.kid);
    if (!key) return reject('unknown_key', 'the token is encrypted with a key that is not current');
    if (encryptedKey !== '') return reject('bad_encryption', 'dir encryption carries no encrypted key');
    const plaintext = decrypt(key, header.aad, decodeSigned(iv), decodeSigned(ciphertext), decodeSigned(tag));
    if (!plaintext) return reject('bad_encryption', 'the inner token does not decrypt');
    const claims = parseJsonObject(plaintext);
    return claims ? { claims, encryption: key } : reject('bad_encryption', 'the inner token does not hold a JSON object');
  }

  private refetchInterval(): number {
    return this.options.unknownKidRefetchIntervalMs ?? 10_000;
  }

  /** One refetch at a time per cluster, and at most one per interval: forged kids cannot make it hammer authz. */
  private async refetchForUnknown(cluster: Cluster): Promise<boolean> {
    if (cluster.loading) {
      await cluster.loading;
      return true;
    }
    if (Date.now() - cluster.lastUnknownRefetch < this.refetchInterval()) return false;
    cluster.lastUnknownRefetch = Date.now();
    await this.refetchCluster(cluster);
    return true;
  }

  /** Tries the cluster's URLs in order, the one that answered last first; keeps the keys it has if none answers. */
  private refetchCluster(cluster: Cluster): Promise<void> {
    cluster.loading ??= (async () => {
      const urls = [...cluster.urls].sort((a, b) => Number(b.url === cluster.keys.from) - Number(a.url === cluster.keys.from));
      const problems: string[] = [];
      for (const server of urls) {
        try {
          const { clusterId, keys } = await this.fetchKeys(server);
          if (clusterId !== cluster.id) throw new KeyFetchError(`answers for cluster ${clusterId}, not ${cluster.id}`);
          this.install(cluster, keys);
          return;
        } catch (error) {
          problems.push(`${server.url}: ${(error as Error).message}`);
        }
      }
      this.lastError = problems.join('; ');
    })().finally(() => (cluster.loading = undefined));
    return cluster.loading;
  }

  private async fetchAll(): Promise<SyncResult> {
    const servers = this.options.servers;
    const answers = await Promise.allSettled(servers.map((server) => this.fetchKeys(server)));
    const errors: SyncResult['errors'] = [];
    const stillUnassigned: ServerConfig[] = [];
    const updated = new Set<Cluster>();
    answers.forEach((answer, i) => {
      const server = servers[i];
      if (answer.status === 'rejected') {
        errors.push({ url: server.url, error: (answer.reason as Error).message });
        if (![...this.clusters.values()].some((c) => c.urls.includes(server))) stillUnassigned.push(server);
        return;
      }
      if (this.closed) return;
      const { clusterId, keys } = answer.value;
      let cluster = this.clusters.get(clusterId);
      if (!cluster) {
        cluster = { id: clusterId, urls: [], keys, lastUnknownRefetch: 0 };
        this.clusters.set(clusterId, cluster);
      }
      for (const c of this.clusters.values()) if (c !== cluster) c.urls = c.urls.filter((s) => s !== server);
      if (!cluster.urls.includes(server)) cluster.urls.push(server);
      // Several nodes of one cluster answered: the first in the configured order wins.
      if (!updated.has(cluster)) this.install(cluster, keys);
      updated.add(cluster);
    });
    this.unassigned = stillUnassigned;
    if (errors.length > 0) this.lastError = errors.map((e) => `${e.url}: ${e.error}`).join('; ');
    return { clusters: [...this.clusters.values()].map(statusOf), errors };
  }

  private install(cluster: Cluster, keys: KeySet): void {
    // Keep the very key objects when a kid is unchanged, so cached tokens stay valid.
    for (const [kid, key] of cluster.keys.signing) if (keys.signing.has(kid)) keys.signing.set(kid, key);
    for (const [kid, key] of cluster.keys.encryption) if (keys.encryption.has(kid)) keys.encryption.set(kid, key);
    cluster.keys = keys;
  }

  private async fetchKeys(server: ServerConfig): Promise<{ clusterId: string; keys: KeySet }> {
    const doFetch = this.options.fetch ?? fetch;
    const { username, password } = server.credentials;
    const response = await doFetch(new URL('/oauth/keys', server.url), {
      headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`, accept: 'application/json' },
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
    });
    if (!response.ok) throw new KeyFetchError(`HTTP ${response.status}`);
    const body = (await response.json()) as { issuer?: unknown; keys?: unknown };
    if (typeof body.issuer !== 'string' || !body.issuer || !Array.isArray(body.keys)) throw new KeyFetchError('not a key set');
    const clusterId = body.issuer;
    const signing = new Map<string, VerificationKey>();
    const encryption = new Map<string, DecryptionKey>();
    for (const jwk of body.keys) {
      if (typeof jwk?.kid !== 'string' || clusterOf(jwk.kid) !== clusterId) throw new KeyFetchError(`a key of another cluster than ${clusterId}`);
      if (jwk.kty === 'RSA') signing.set(jwk.kid, importSigningJwk(jwk));
      else if (jwk.kty === 'oct') encryption.set(jwk.kid, importEncryptionJwk(jwk));
    }
    if (signing.size === 0 || encryption.size === 0) throw new KeyFetchError('the key set lacks a signing or an encryption key');
    return { clusterId, keys: { signing, encryption, from: server.url, fetchedAt: Date.now() } };
  }
}

function statusOf(cluster: Cluster): ClusterStatus {
  return {
    clusterId: cluster.id,
    urls: cluster.urls.map((s) => s.url),
    from: cluster.keys.from,
    fetchedAt: new Date(cluster.keys.fetchedAt),
    signingKids: [...cluster.keys.signing.keys()],
    encryptionKids: [...cluster.keys.encryption.keys()],
  };
}

function isAccessClaims(claims: JsonObject): claims is AccessTokenClaims {
  return (
    typeof claims.sub === 'string' &&
    typeof claims.client_id === 'string' &&
    typeof claims.scope === 'string' &&
    typeof claims.jti === 'string' &&
    typeof claims.iat === 'number'
  );
}
