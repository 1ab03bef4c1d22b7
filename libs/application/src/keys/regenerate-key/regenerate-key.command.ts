import { Command } from '@nestjs/cqrs';
import type { KeyKind } from '@authz/contracts';
import type { RequestContext } from '../../ports';
import type { KeyInfo } from '../key-ring-stream';

export class RegenerateKeyCommand extends Command<KeyInfo & { kind: KeyKind; position: number }> {
  constructor(
    readonly kind: KeyKind,
    readonly context: RequestContext,
  ) {
    super();
  }
}
