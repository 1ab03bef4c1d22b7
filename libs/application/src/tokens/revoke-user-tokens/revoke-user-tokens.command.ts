import type { RequestContext } from '../../ports';

/** Seed S12: revoke every refresh token of a user, or of a user on one client (device). */
export class RevokeUserTokensCommand {
  constructor(
    readonly userId: unknown,
    readonly clientId: unknown,
    readonly context: RequestContext,
  ) {}
}

export interface UserTokensRevoked {
  userId: string;
  clientId: string | null;
  /** Live refresh tokens this revocation stopped. */
  revoked: number;
  revokedAt: string;
}
