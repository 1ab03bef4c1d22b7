import {
  CURRENT_SCHEMA_VERSIONS,
  TOKEN_ISSUED,
  TOKEN_REFRESHED,
  TOKEN_REVOKED,
  type TokenIssuedV1,
  type TokenRefreshedV1,
  type TokenRevokedV1,
} from '@authz/contracts';
import { AggregateRoot } from '../aggregate-root';
import { DomainError } from '../errors';
import { GrantError } from './authorization-code';

/**
 * A grant with a refresh token (stream `grant-<tid>`): whether the refresh token still works is
 * decided here, from the event store, never from a projection.
 */
export class RefreshGrant extends AggregateRoot {
  private issued?: TokenIssuedV1 & { refreshToken: NonNullable<TokenIssuedV1['refreshToken']> };
  private revoked?: TokenRevokedV1;

  get details() {
    return this.issued;
  }

  get isRevoked(): boolean {
    return this.revoked !== undefined;
  }

  issue(data: TokenIssuedV1): void {
    if (this.issued) throw new DomainError('GRANT_EXISTS', 'this grant was issued already');
    if (!data.refreshToken) throw new DomainError('GRANT_WITHOUT_REFRESH_TOKEN', 'a refresh grant needs a refresh token');
    this.raise(TOKEN_ISSUED, CURRENT_SCHEMA_VERSIONS[TOKEN_ISSUED], data);
  }

  /** Seed S10: a new access token on every refresh; the refresh token keeps its validity. */
  refresh(request: { clientId: string; tokenHash: string; now: Date; accessToken: TokenRefreshedV1['accessToken'] }): void {
    const grant = this.usable(request.tokenHash, request.clientId, request.now);
    this.raise<TokenRefreshedV1>(TOKEN_REFRESHED, CURRENT_SCHEMA_VERSIONS[TOKEN_REFRESHED], {
      clientId: grant.clientId,
      userId: grant.userId,
      tid: grant.refreshToken.tid,
      accessToken: request.accessToken,
    });
  }

  /** Idempotent: revoking a revoked grant decides nothing. */
  revoke(reason: TokenRevokedV1['reason']): void {
    if (!this.issued || this.revoked) return;
    this.raise<TokenRevokedV1>(TOKEN_REVOKED, CURRENT_SCHEMA_VERSIONS[TOKEN_REVOKED], {
      clientId: this.issued.clientId,
      userId: this.issued.userId,
      tid: this.issued.refreshToken.tid,
      reason,
    });
  }

  /** The grant, if this refresh token may be used now by this client; else a GrantError. */
  usable(tokenHash: string, clientId: string, now: Date) {
    const grant = this.issued;
    if (!grant || grant.refreshToken.hash !== tokenHash) throw new GrantError('REFRESH_TOKEN_UNKNOWN', 'the refresh token is not valid');
    if (grant.clientId !== clientId) throw new GrantError('REFRESH_TOKEN_OF_ANOTHER_CLIENT', 'the refresh token was issued to another client');
    if (this.revoked) throw new GrantError('REFRESH_TOKEN_REVOKED', 'the refresh token was revoked');
    if (new Date(grant.refreshToken.expiresAt) <= now) throw new GrantError('REFRESH_TOKEN_EXPIRED', 'the refresh token has expired');
    return grant;
  }

  protected onTokenIssued(data: TokenIssuedV1): void {
    this.issued = data as RefreshGrant['issued'];
  }

  protected onTokenRevoked(data: TokenRevokedV1): void {
    this.revoked = data;
  }
}
