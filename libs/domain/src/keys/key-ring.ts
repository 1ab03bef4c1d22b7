import {
  CLUSTER_INITIALIZED,
  CURRENT_SCHEMA_VERSIONS,
  KEY_REGENERATED,
  type ClusterInitializedV1,
  type KeyKind,
  type KeyRegeneratedV1,
} from '@authz/contracts';
import { AggregateRoot } from '../aggregate-root';
import { DomainError } from '../errors';

export const KEY_RING_STREAM_ID = 'cluster';

/** A key as the key ring knows it: never the material itself, only its wrapped form. */
export type NewKey = Omit<KeyRegeneratedV1, 'kind' | 'reason'>;

/**
 * The cluster's key ring (seed S6, S7): one signing and one encryption key at a time,
 * created once when the cluster first starts and replaced only by an explicit regeneration.
 */
export class KeyRing extends AggregateRoot {
  private id?: string;
  private readonly current = new Map<KeyKind, KeyRegeneratedV1>();

  get clusterId(): string | undefined {
    return this.id;
  }

  get initialized(): boolean {
    return this.id !== undefined;
  }

  key(kind: KeyKind): KeyRegeneratedV1 | undefined {
    return this.current.get(kind);
  }

  /** First start of the cluster: fixes its id and records both keys. */
  initialize(clusterId: string, signing: NewKey, encryption: NewKey): void {
    if (this.initialized) throw new DomainError('CLUSTER_ALREADY_INITIALIZED', `the cluster is already ${this.id}`);
    this.raise<ClusterInitializedV1>(CLUSTER_INITIALIZED, CURRENT_SCHEMA_VERSIONS[CLUSTER_INITIALIZED], { clusterId });
    this.record('signing', signing, 'bootstrap');
    this.record('encryption', encryption, 'bootstrap');
  }

  regenerate(kind: KeyKind, key: NewKey): void {
    if (!this.initialized) throw new DomainError('CLUSTER_NOT_INITIALIZED', 'the cluster has no keys yet');
    if (!key.kid.startsWith(`${this.id}:`)) {
      throw new DomainError('KEY_OF_ANOTHER_CLUSTER', `kid ${key.kid} does not belong to cluster ${this.id}`);
    }
    if (this.current.get(kind)?.fingerprint === key.fingerprint) {
      throw new DomainError('KEY_NOT_NEW', `the new ${kind} key is the current one`);
    }
    this.record(kind, key, 'regenerate');
  }

  private record(kind: KeyKind, key: NewKey, reason: KeyRegeneratedV1['reason']): void {
    if (kind === 'signing' && !key.publicJwk) throw new DomainError('SIGNING_KEY_WITHOUT_PUBLIC_KEY', 'a signing key needs its public JWK');
    this.raise<KeyRegeneratedV1>(KEY_REGENERATED, CURRENT_SCHEMA_VERSIONS[KEY_REGENERATED], { ...key, kind, reason });
  }

  protected onClusterInitialized(data: ClusterInitializedV1): void {
    this.id = data.clusterId;
  }

  protected onKeyRegenerated(data: KeyRegeneratedV1): void {
    this.current.set(data.kind, data);
  }
}
