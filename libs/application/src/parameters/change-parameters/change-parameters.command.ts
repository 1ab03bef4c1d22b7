import { Command } from '@nestjs/cqrs';
import type { EnterpriseParameterValues } from '@authz/contracts';
import type { RequestContext } from '../../ports';

export interface ChangeParametersResult {
  values: EnterpriseParameterValues;
  /** Position of the appended event, or null when nothing changed. */
  position: number | null;
}

/** `changes` is the client's JSON as received: the domain validates it. */
export class ChangeParametersCommand extends Command<ChangeParametersResult> {
  constructor(
    readonly changes: unknown,
    readonly context: RequestContext,
  ) {
    super();
  }
}
