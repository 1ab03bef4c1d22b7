import { createHash } from 'node:crypto';
import { streamId } from '@authz/contracts';
import { Client } from '@authz/domain';
import { OAuthError } from '../../oauth-error';
import type { CredentialStore, EventStore, PasswordHasher } from '../../ports';

export interface ClientCredentials {
  clientId: string;
  clientSecret?: string;
}

const CACHE_TTL_MS = 30_000;
const CACHE_MAX = 10_000;

/**
 * Client authentication (RFC 6749 §2.3): a confidential client by its secret, a public one
 * by its id alone. A verified secret is remembered for a short while under a hash, so that a
 * busy service does not pay scrypt on every token request.
 */
export class ClientAuthenticator {
  private readonly verified = new Map<string, number>();

  constructor(
    private readonly store: EventStore,
    private readonly credentials: CredentialStore,
    private readonly hasher: PasswordHasher,
  ) {}

  async authenticate({ clientId, clientSecret }: ClientCredentials, requireConfidential: boolean): Promise<Client> {
    const client = new Client().loadFromHistory(await this.store.readStream(streamId('client', clientId)));
    const fail = () => new OAuthError('invalid_client', 'client authentication failed');
    if (!client.exists) {
      if (clientSecret !== undefined) await this.hasher.verify(clientSecret, await this.decoyHash());
      throw fail();
    }
    if (client.details!.type === 'public') {
      if (requireConfidential || clientSecret !== undefined) throw fail();
      return client;
    }
    if (clientSecret === undefined) throw fail();
    const key = createHash('sha256').update(clientId).update('\0').update(clientSecret).digest('base64');
    if ((this.verified.get(key) ?? 0) > Date.now()) return client;
    const hash = await this.credentials.clientSecretHash(clientId);
    if (!hash || !(await this.hasher.verify(clientSecret, hash))) throw fail();
    if (this.verified.size >= CACHE_MAX) this.verified.clear();
    this.verified.set(key, Date.now() + CACHE_TTL_MS);
    return client;
  }

  private decoy?: Promise<string>;
  private decoyHash(): Promise<string> {
    this.decoy ??= this.hasher.hash('not a secret anyone has');
    return this.decoy;
  }
}
