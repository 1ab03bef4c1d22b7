import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { KeyRegeneratedV2 } from '@authz/contracts';
import { EVENT_STORE, KEY_FACTORY, type EventStore, type KeyFactory } from '../../ports';
import { retryOnConflict } from '../../retry-on-conflict';
import { KEY_RING_STREAM, loadKeyRing } from '../key-ring-stream';
import { RegenerateKeyCommand } from './regenerate-key.command';

/**
 * Seed S7: a new key of one kind; every access token issued under the old one stops validating.
 * Refresh tokens keep working (the retired public key still verifies them) unless a signing
 * regeneration asks for `revokeRefreshTokens`: then the event itself is the revocation, which
 * every refresh reads from the event store (KeyCache.refreshTokensRevokedBefore).
 */
@CommandHandler(RegenerateKeyCommand)
export class RegenerateKeyHandler implements ICommandHandler<RegenerateKeyCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(KEY_FACTORY) private readonly keys: KeyFactory,
  ) {}

  execute({ kind, context, options }: RegenerateKeyCommand) {
    return retryOnConflict(async () => {
      const { ring } = await loadKeyRing(this.store);
      ring.regenerate(kind, await this.keys.generate(kind, ring.clusterId ?? ''), options);
      const [event] = await this.store.append(KEY_RING_STREAM, ring.version, ring.uncommittedEvents(), context);
      const { kid, fingerprint, revokeRefreshTokens } = event.data as KeyRegeneratedV2;
      return { kind, kid, fingerprint, createdAt: event.occurredAt, position: event.position, revokeRefreshTokens: revokeRefreshTokens === true };
    });
  }
}
