import { Command } from '@nestjs/cqrs';
import type { KeyKind } from '@authz/contracts';
import type { RegenerationOptions } from '@authz/domain';
import type { RequestContext } from '../../ports';
import type { KeyInfo } from '../key-ring-stream';

export class RegenerateKeyCommand extends Command<KeyInfo & { kind: KeyKind; position: number; revokeRefreshTokens: boolean }> {
  constructor(
    readonly kind: KeyKind,
    readonly context: RequestContext,
    /** Signing only: `revokeRefreshTokens` also revokes every refresh token issued before it. */
    readonly options: RegenerationOptions = {},
  ) {
    super();
  }
}
