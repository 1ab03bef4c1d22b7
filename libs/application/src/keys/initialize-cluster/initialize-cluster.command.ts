import { Command } from '@nestjs/cqrs';
import type { RequestContext } from '../../ports';

/** At every start: creates the cluster's id and keys if, and only if, the cluster has none. */
export class InitializeClusterCommand extends Command<{ clusterId: string; created: boolean }> {
  constructor(readonly context: RequestContext) {
    super();
  }
}
