import {
  CLUSTER_INITIALIZED,
  CURRENT_SCHEMA_VERSIONS,
  KEY_REGENERATED,
  type ClusterInitializedV1,
  type KeyKind,
  type KeyRegeneratedV2,
} from '@authz/contracts';
import { AggregateRoot } from '../aggregate-root';
import { DomainError, ValidationError } from '../errors';
import { GrantError } from '../grants/authorization-code';
import { REFRESH_TOKEN_EXPIRY_DAYS_MAX } from '../parameters/enterprise-parameters';

export const KEY_RING_STREAM_ID = 'cluster';

/** A key as the key ring knows it: never the material itself, only its wrapped form. */
export type NewKey = Omit<KeyRegeneratedV2, 'kind' | 'reason' | 'revokeRefreshTokens'>;

export interface RegenerationOptions {
  /** Signing only: also revoke every refresh token issued before the regeneration. Default false. */
  revokeRefreshTokens?: boolean;
}

const DAY_MS = 86_400_000;

/**
 * How long a retired signing key still verifies refresh tokens (never access tokens): the
 * longest refresh token lifetime there can be (seed S9: 90 days), plus a day for a node that
 * went on signing with the key for a moment after it was replaced. No refresh token signed with
 * it can still be valid after that, so the key can go.
 */
export const RETIRED_SIGNING_KEY_RETENTION_MS = (REFRESH_TOKEN_EXPIRY_DAYS_MAX + 1) * DAY_MS;

/** Whether a signing key retired (replaced by a regeneration) at `retiredAt` still verifies refresh tokens at `now`. */
export function retiredKeyVerifiesRefreshTokens(retiredAt: Date | string | number, now: Date | number = Date.now()): boolean {
  const retired = new Date(retiredAt).getTime();
  return Number.isFinite(retired) && new Date(now).getTime() - retired <= RETIRED_SIGNING_KEY_RETENTION_MS;
}

/**
 * Whether a signing key regeneration that revoked refresh tokens covers a refresh token:
 * `familyPosition` is the event position of the TokenIssued that began the token's family
 * (RefreshGrant.origin: the comparison admin revocations make too, so that a successor a
 * racing rotation appended just after the regeneration goes with its family);
 * `revokedBefore` the position of the latest such regeneration (0 or undefined: none).
 */
export function revokedByKeyRegeneration(familyPosition: number | undefined, revokedBefore: number | undefined): boolean {
  return familyPosition !== undefined && revokedBefore !== undefined && revokedBefore > 0 && familyPosition < revokedBefore;
}

/** The same, as the refresh grant's check: a GrantError (invalid_grant) when the token is covered. */
export function assertNotRevokedByKeyRegeneration(familyPosition: number | undefined, revokedBefore: number | undefined): void {
  if (revokedByKeyRegeneration(familyPosition, revokedBefore)) {
    throw new GrantError('REFRESH_TOKEN_REVOKED', 'the refresh token was revoked by a signing key regeneration');
  }
}

/**
 * The cluster's key ring (seed S6, S7): one signing and one encryption key at a time,
 * created once when the cluster first starts and replaced only by an explicit regeneration.
 */
export class KeyRing extends AggregateRoot {
  private id?: string;
  private readonly current = new Map<KeyKind, KeyRegeneratedV2>();

  get clusterId(): string | undefined {
    return this.id;
  }

  get initialized(): boolean {
    return this.id !== undefined;
  }

  key(kind: KeyKind): KeyRegeneratedV2 | undefined {
    return this.current.get(kind);
  }

  /** First start of the cluster: fixes its id and records both keys. */
  initialize(clusterId: string, signing: NewKey, encryption: NewKey): void {
    if (this.initialized) throw new DomainError('CLUSTER_ALREADY_INITIALIZED', `the cluster is already ${this.id}`);
    this.raise<ClusterInitializedV1>(CLUSTER_INITIALIZED, CURRENT_SCHEMA_VERSIONS[CLUSTER_INITIALIZED], { clusterId });
    this.record('signing', signing, 'bootstrap');
    this.record('encryption', encryption, 'bootstrap');
  }

  /**
   * Seed S7: every access token under the old key stops validating. Refresh tokens are not
   * encrypted, and are checked by their stored hash: they keep working unless a signing key
   * regeneration asks for `revokeRefreshTokens`.
   */
  regenerate(kind: KeyKind, key: NewKey, options: RegenerationOptions = {}): void {
    if (!this.initialized) throw new DomainError('CLUSTER_NOT_INITIALIZED', 'the cluster has no keys yet');
    const revokeRefreshTokens = options.revokeRefreshTokens ?? false;
    if (typeof revokeRefreshTokens !== 'boolean') throw new ValidationError('REVOKE_REFRESH_TOKENS_NOT_BOOLEAN', 'revokeRefreshTokens must be true or false');
    if (revokeRefreshTokens && kind !== 'signing') {
      throw new ValidationError(
        'REFRESH_TOKENS_NOT_ENCRYPTED',
        'revokeRefreshTokens applies to the signing key only: refresh tokens are signed, not encrypted, and an encryption key regeneration leaves them working',
      );
    }
    if (!key.kid.startsWith(`${this.id}:`)) {
      throw new DomainError('KEY_OF_ANOTHER_CLUSTER', `kid ${key.kid} does not belong to cluster ${this.id}`);
    }
    if (this.current.get(kind)?.fingerprint === key.fingerprint) {
      throw new DomainError('KEY_NOT_NEW', `the new ${kind} key is the current one`);
    }
    this.record(kind, key, 'regenerate', revokeRefreshTokens);
  }

  private record(kind: KeyKind, key: NewKey, reason: KeyRegeneratedV2['reason'], revokeRefreshTokens = false): void {
    if (kind === 'signing' && !key.publicJwk) throw new DomainError('SIGNING_KEY_WITHOUT_PUBLIC_KEY', 'a signing key needs its public JWK');
    this.raise<KeyRegeneratedV2>(KEY_REGENERATED, CURRENT_SCHEMA_VERSIONS[KEY_REGENERATED], { ...key, kind, reason, revokeRefreshTokens });
  }

  protected onClusterInitialized(data: ClusterInitializedV1): void {
    this.id = data.clusterId;
  }

  protected onKeyRegenerated(data: KeyRegeneratedV2): void {
    this.current.set(data.kind, data);
  }
}
