import { streamId } from '@authz/contracts';
import { Client, isClientId } from '@authz/domain';
import type { EventStore } from '../ports';

const MAX_CLIENTS = 10_000;

/**
 * Registered clients by id, for the token endpoints' hot path. A registration never changes
 * (there is no ClientUpdated event yet), so a client once found stays right; an unknown id is
 * not remembered, so a client registered a moment ago on another node is found at once.
 */
export class ClientLookup {
  private readonly known = new Map<string, Client>();

  constructor(private readonly store: EventStore) {}

  async find(clientId: string): Promise<Client> {
    // No client was ever registered under an id outside the registration's syntax (a NUL, a
    // space, 10 KB …): it is unknown without asking the store, which might refuse the text.
    if (!isClientId(clientId)) return new Client();
    const cached = this.known.get(clientId);
    if (cached) return cached;
    const client = new Client().loadFromHistory(await this.store.readStream(streamId('client', clientId)));
    if (client.exists) {
      if (this.known.size >= MAX_CLIENTS) this.known.delete(this.known.keys().next().value!);
      this.known.set(clientId, client);
    }
    return client;
  }
}
