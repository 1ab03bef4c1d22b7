import { Command } from '@nestjs/cqrs';
import type { RequestContext } from '../ports';

export type AuthorizeResult =
  | { outcome: 'redirect'; location: string }
  | { outcome: 'login_failed' }
  | { outcome: 'error_page'; error: string; description: string };

/** The login form was posted: authenticate the user, then issue a code or (implicit) a token. */
export class AuthorizeCommand extends Command<AuthorizeResult> {
  constructor(
    readonly params: Record<string, unknown>,
    readonly username: string,
    readonly password: string,
    readonly context: RequestContext,
  ) {
    super();
  }
}
