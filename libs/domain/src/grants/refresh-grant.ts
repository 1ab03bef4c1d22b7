import {
  CURRENT_SCHEMA_VERSIONS,
  REFRESH_TOKEN_REUSE_DETECTED,
  REFRESH_TOKEN_ROTATED,
  REFRESH_TOKEN_FAMILY_REVOKED,
  REFRESH_TOKENS_REVOKED,
  TOKEN_ISSUED,
  TOKEN_REFRESHED,
  TOKEN_REVOKED,
  type RefreshTokenFamilyRevokedV1,
  type RefreshTokenReuseDetectedV1,
  type RefreshTokenRotatedV1,
  type RefreshTokensRevokedV1,
  type TokenIssuedV1,
  type TokenRefreshedV1,
  type TokenRevokedV1,
} from '@authz/contracts';
import type { DomainEvent, EventEnvelope } from '@authz/contracts';
import { AggregateRoot } from '../aggregate-root';
import { DomainError } from '../errors';
import { GrantError } from './authorization-code';

type Issued = TokenIssuedV1 & { refreshToken: NonNullable<TokenIssuedV1['refreshToken']> };

export type RotationOutcome =
  | { outcome: 'rotated' }
  | { outcome: 'grace'; successor: RefreshTokenRotatedV1['successor'] }
  | { outcome: 'reused' };

/** What a use of a rotating refresh token will be, decided before any token is signed. */
export type RotationState = 'first' | 'grace' | 'reused';

/**
 * One refresh token (stream `grant-<tid>`): whether it still works is decided here, from the
 * event store, never from a projection. With rotation, each token is used once and names its
 * successor; the tokens descending from one authorization form a family.
 */
export class RefreshGrant extends AggregateRoot {
  private issued?: Issued;
  private revoked?: TokenRevokedV1;
  private rotated?: RefreshTokenRotatedV1;
  private issuedPosition?: number;
  private revokedByAdmin = false;
  private revokedWithFamily = false;

  /**
   * The grant's own events, and the admin revocations of its user (stream
   * `revocation-<userId>`): one made after the family's first token was issued covers it, and
   * so does a revocation of its family, whenever it was made.
   * TokenRefreshed changes nothing here (a token refreshed a thousand times decides as one never
   * used): `version` is the stream's version when the history leaves those events out.
   */
  static load(history: readonly EventEnvelope[], revocations: readonly EventEnvelope<unknown>[] = [], version?: number): RefreshGrant {
    const grant = new RefreshGrant().loadFromHistory(history, version);
    grant.issuedPosition = history[0]?.position;
    const origin = grant.origin;
    if (origin === undefined) return grant;
    grant.revokedByAdmin = revocations.some((r) => {
      if (r.type !== REFRESH_TOKENS_REVOKED || r.position <= origin) return false;
      const revocation = r.data as RefreshTokensRevokedV1;
      return revocation.userId === grant.issued!.userId && (revocation.clientId === null || revocation.clientId === grant.issued!.clientId);
    });
    grant.revokedWithFamily = revocations.some(
      (r) => r.type === REFRESH_TOKEN_FAMILY_REVOKED && (r.data as RefreshTokenFamilyRevokedV1).family === grant.family,
    );
    return grant;
  }

  get details(): Issued | undefined {
    return this.issued;
  }

  get isRevoked(): boolean {
    return this.revoked !== undefined || this.revokedByAdmin || this.revokedWithFamily;
  }

  /** The position of the family's first token: what admin revocations are compared with. */
  get origin(): number | undefined {
    return this.issued?.familyPosition ?? this.issuedPosition;
  }

  get family(): string | undefined {
    return this.issued && (this.issued.family ?? this.issued.refreshToken.tid);
  }

  /** The token that replaced this one, if it was rotated. */
  get successorTid(): string | undefined {
    return this.rotated?.successor.tid;
  }

  issue(data: TokenIssuedV1): void {
    if (this.issued) throw new DomainError('GRANT_EXISTS', 'this grant was issued already');
    if (!data.refreshToken) throw new DomainError('GRANT_WITHOUT_REFRESH_TOKEN', 'a refresh grant needs a refresh token');
    this.raise(TOKEN_ISSUED, CURRENT_SCHEMA_VERSIONS[TOKEN_ISSUED], data);
  }

  /** The grant, if this refresh token may be used now by this client; else a GrantError. */
  usable(tokenHash: string, clientId: string, now: Date): Issued {
    const grant = this.issued;
    if (!grant || grant.refreshToken.hash !== tokenHash) throw new GrantError('REFRESH_TOKEN_UNKNOWN', 'the refresh token is not valid');
    if (grant.clientId !== clientId) throw new GrantError('REFRESH_TOKEN_OF_ANOTHER_CLIENT', 'the refresh token was issued to another client');
    if (this.isRevoked) throw new GrantError('REFRESH_TOKEN_REVOKED', 'the refresh token was revoked');
    if (new Date(grant.refreshToken.expiresAt) <= now) throw new GrantError('REFRESH_TOKEN_EXPIRED', 'the refresh token has expired');
    return grant;
  }

  /**
   * Seed S10 (rotation off): a new access token on every refresh; the refresh token keeps its
   * validity. The event belongs to the access token's stream, not to this one: a refresh
   * decides nothing about the grant, so concurrent refreshes must not contend for its version.
   */
  refresh(request: { clientId: string; tokenHash: string; now: Date; accessToken: TokenRefreshedV1['accessToken'] }): DomainEvent<TokenRefreshedV1> {
    const grant = this.usable(request.tokenHash, request.clientId, request.now);
    if (this.rotated) throw new GrantError('REFRESH_TOKEN_ROTATED', 'the refresh token was used already');
    return {
      type: TOKEN_REFRESHED,
      schemaVersion: CURRENT_SCHEMA_VERSIONS[TOKEN_REFRESHED],
      data: { clientId: grant.clientId, userId: grant.userId, tid: grant.refreshToken.tid, accessToken: request.accessToken },
    };
  }

  /**
   * Rotation on: what this use will be, from the same rules as `rotate`, so that the caller
   * signs a successor only for a first use.
   */
  rotationState(request: { clientId: string; tokenHash: string; now: Date; graceSeconds: number }): RotationState {
    this.usable(request.tokenHash, request.clientId, request.now);
    if (!this.rotated) return 'first';
    return request.now.getTime() - new Date(this.rotated.rotatedAt).getTime() <= request.graceSeconds * 1000 ? 'grace' : 'reused';
  }

  /**
   * Rotation on: the first use names a successor. A second use within `graceSeconds` (several
   * tabs, a retried request) gets the same successor; later, it is reuse of a stolen token:
   * this token is revoked and RefreshTokenReuseDetected raised (the caller revokes the family,
   * `TokenRevocations.revokeFamily`, in the same append).
   */
  rotate(request: {
    clientId: string;
    tokenHash: string;
    now: Date;
    graceSeconds: number;
    /** Only the first use needs it; a token already rotated reports its recorded successor. */
    successor: RefreshTokenRotatedV1['successor'] | undefined;
    source: RefreshTokenReuseDetectedV1['source'];
  }): RotationOutcome {
    const grant = this.usable(request.tokenHash, request.clientId, request.now);
    if (this.rotated) {
      if (this.rotationState(request) === 'grace') return { outcome: 'grace', successor: this.rotated.successor };
      this.raise<RefreshTokenReuseDetectedV1>(REFRESH_TOKEN_REUSE_DETECTED, CURRENT_SCHEMA_VERSIONS[REFRESH_TOKEN_REUSE_DETECTED], {
        clientId: grant.clientId,
        userId: grant.userId,
        tid: grant.refreshToken.tid,
        family: this.family!,
        source: request.source,
      });
      this.revoke('reuse_detected');
      return { outcome: 'reused' };
    }
    if (!request.successor) throw new DomainError('SUCCESSOR_REQUIRED', 'the first use of a refresh token needs its successor');
    this.raise<RefreshTokenRotatedV1>(REFRESH_TOKEN_ROTATED, CURRENT_SCHEMA_VERSIONS[REFRESH_TOKEN_ROTATED], {
      clientId: grant.clientId,
      userId: grant.userId,
      tid: grant.refreshToken.tid,
      family: this.family!,
      rotatedAt: request.now.toISOString(),
      successor: request.successor,
    });
    return { outcome: 'rotated' };
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

  protected onTokenIssued(data: TokenIssuedV1): void {
    this.issued = data as Issued;
  }

  protected onTokenRevoked(data: TokenRevokedV1): void {
    this.revoked = data;
  }

  protected onRefreshTokenRotated(data: RefreshTokenRotatedV1): void {
    this.rotated = data;
  }
}
