import { Query } from '@nestjs/cqrs';
import type { Role } from '@authz/contracts';

export interface Principal {
  userId: string;
  roles: readonly Role[];
}

/** Answers the principal, or null for an unknown user or a wrong password alike. */
export class VerifyCredentialsQuery extends Query<Principal | null> {
  constructor(
    readonly userId: string,
    readonly password: string,
  ) {
    super();
  }
}
