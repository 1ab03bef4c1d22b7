import { Command } from '@nestjs/cqrs';
import type { RequestContext } from '../../ports';

export class RegisterUserCommand extends Command<{ userId: string; roles: string[] }> {
  constructor(
    readonly userId: unknown,
    readonly password: unknown,
    readonly roles: unknown,
    readonly context: RequestContext,
  ) {
    super();
  }
}
