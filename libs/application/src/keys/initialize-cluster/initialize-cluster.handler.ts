import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { EVENT_STORE, KEY_FACTORY, type EventStore, type KeyFactory } from '../../ports';
import { retryOnConflict } from '../../retry-on-conflict';
import { KEY_RING_STREAM, loadKeyRing } from '../key-ring-stream';
import { InitializeClusterCommand } from './initialize-cluster.command';

@CommandHandler(InitializeClusterCommand)
export class InitializeClusterHandler implements ICommandHandler<InitializeClusterCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(KEY_FACTORY) private readonly keys: KeyFactory,
  ) {}

  // Nodes starting together race to append at version 0: the loser reloads and finds the winner's keys.
  execute({ context }: InitializeClusterCommand) {
    return retryOnConflict(async () => {
      const { ring } = await loadKeyRing(this.store);
      if (ring.initialized) return { clusterId: ring.clusterId!, created: false };
      const clusterId = randomUUID();
      const [signing, encryption] = await Promise.all([
        this.keys.generate('signing', clusterId),
        this.keys.generate('encryption', clusterId),
      ]);
      ring.initialize(clusterId, signing, encryption);
      await this.store.append(KEY_RING_STREAM, ring.version, ring.uncommittedEvents(), context);
      return { clusterId, created: true };
    });
  }
}
