import { Inject, Injectable } from '@nestjs/common';
import type { Client } from '@authz/domain';
import { ClientLookup } from '../client-lookup';
import { decoyHash } from '../../users/decoy-hash';
import { OAuthError } from '../../oauth-error';
import { CREDENTIAL_STORE, EVENT_STORE, PASSWORD_HASHER, type CredentialStore, type EventStore, type PasswordHasher } from '../../ports';
import { FAILURE_THROTTLE, type FailureThrottle } from '../../throttle/failure-throttle';
import { VerifiedCredentials } from '../../verified-credentials';

export interface ClientCredentials {
  clientId: string;
  clientSecret?: string;
  /** Where the request came from, for throttling failed attempts. */
  sourceAddress?: string;
}

const CACHE_TTL_MS = 30_000;
const CACHE_MAX = 10_000;

/**
 * Client authentication (RFC 6749 §2.3): a confidential client by its secret, a public one
 * by its id alone. A verified secret is remembered for a short while (VerifiedCredentials).
 */
@Injectable()
export class ClientAuthenticator {
  private readonly secrets = new VerifiedCredentials<true>(CACHE_TTL_MS, CACHE_MAX);

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(CREDENTIAL_STORE) private readonly credentials: CredentialStore,
    @Inject(PASSWORD_HASHER) private readonly hasher: PasswordHasher,
    @Inject(FAILURE_THROTTLE) private readonly throttle: FailureThrottle,
  ) {
    this.lookup = new ClientLookup(store);
  }

  private readonly lookup: ClientLookup;

  find(clientId: string): Promise<Client> {
    return this.lookup.find(clientId);
  }

  async authenticate(credentials: ClientCredentials, requireConfidential: boolean): Promise<Client> {
    const { clientId, sourceAddress } = credentials;
    const account = `client:${clientId}`;
    this.throttle.check(account, sourceAddress);
    try {
      const client = await this.verify(credentials, requireConfidential);
      this.throttle.succeed(account);
      return client;
    } catch (error) {
      if (error instanceof OAuthError) this.throttle.fail(account, sourceAddress);
      throw error;
    }
  }

  private async verify({ clientId, clientSecret }: ClientCredentials, requireConfidential: boolean): Promise<Client> {
    const client = await this.lookup.find(clientId);
    const fail = () => new OAuthError('invalid_client', 'client authentication failed');
    if (!client.exists) {
      if (clientSecret !== undefined) await this.hasher.verify(clientSecret, await decoyHash(this.hasher));
      throw fail();
    }
    if (client.details!.type === 'public') {
      if (requireConfidential || clientSecret !== undefined) throw fail();
      return client;
    }
    if (clientSecret === undefined) throw fail();
    const verified = await this.secrets.verify(clientId, clientSecret, async () => {
      const hash = await this.credentials.clientSecretHash(clientId);
      return hash && (await this.hasher.verify(clientSecret, hash)) ? true : null;
    });
    if (!verified) throw fail();
    return client;
  }
}
