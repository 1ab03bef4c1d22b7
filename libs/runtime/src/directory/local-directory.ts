import type { QueryBus } from '@nestjs/cqrs';
import { VerifyCredentialsQuery, type UserDirectory } from '@authz/application';

/** The cluster's own accounts (POST /admin/users), checked like admin logins: scrypt, same answer for unknown and wrong. */
export class LocalDirectory implements UserDirectory {
  readonly name = 'local' as const;

  constructor(private readonly queryBus: QueryBus) {}

  async authenticate(username: string, password: string): Promise<{ userId: string } | null> {
    if (username.length > 128 || password.length > 1024) return null;
    const principal = await this.queryBus.execute(new VerifyCredentialsQuery(username, password));
    return principal ? { userId: principal.userId } : null;
  }
}
