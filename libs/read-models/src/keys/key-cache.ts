import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import {
  CLUSTER_INITIALIZED,
  KEY_REGENERATED,
  streamId,
  type ClusterInitializedV1,
  type EventEnvelope,
  type KeyKind,
  type KeyRegeneratedV1,
  type WrappedKey,
} from '@authz/contracts';
import type { EventStore, EventTransport, Subscription } from '@authz/application';
import type { Database } from '@authz/event-store';

export interface CachedSigningKey {
  kid: string;
  fingerprint: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface CachedEncryptionKey {
  kid: string;
  fingerprint: string;
  secret: KeyObject;
}

export type Unwrap = (kid: string, wrapped: WrappedKey) => Buffer;

const KEY_RING = streamId('keyring', 'cluster');
const HEARTBEAT_MS = 10_000;

/**
 * This node's copy of the cluster keys, unwrapped, in memory only. It loads the key ring
 * from the event store at start, then follows the key events with a consumer of its own,
 * and records in `node_key_fingerprints` what it holds, so that nodes can be compared.
 */
export class KeyCache {
  private version = 0;
  private cluster?: string;
  private signingKey?: CachedSigningKey;
  private encryptionKey?: CachedEncryptionKey;
  private subscription?: Subscription;
  private heartbeat?: NodeJS.Timeout;
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly transport: EventTransport,
    private readonly unwrap: Unwrap,
    private readonly nodeId: string,
    private readonly groupPrefix: string,
    private readonly log: (level: 'info' | 'warn' | 'error', message: string) => void,
  ) {}

  get clusterId(): string | undefined {
    return this.cluster;
  }

  get signing(): CachedSigningKey | undefined {
    return this.signingKey;
  }

  get encryption(): CachedEncryptionKey | undefined {
    return this.encryptionKey;
  }

  /** Called after the keys change, e.g. to drop caches of validated tokens. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    await this.refresh();
    this.subscription = await this.transport.subscribe(
      { group: `${this.groupPrefix}.keycache.${this.nodeId}`, categories: ['keyring'], fromBeginning: true },
      async (events) => {
        for (const event of events) await this.apply(event);
      },
    );
    this.heartbeat = setInterval(() => void this.touch(), HEARTBEAT_MS).unref();
  }

  /** Reads the key ring from the event store: after a change made on this node, it need not wait for the event. */
  async refresh(): Promise<void> {
    for (const event of await this.store.readStream(KEY_RING)) await this.apply(event);
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.subscription?.close();
  }

  /** Applies a key ring event once (by stream version), whichever way it arrived. */
  async apply(event: EventEnvelope): Promise<void> {
    if (event.streamId !== KEY_RING || event.streamVersion <= this.version) return;
    if (event.type === CLUSTER_INITIALIZED) {
      this.cluster = (event.data as ClusterInitializedV1).clusterId;
    } else if (event.type === KEY_REGENERATED) {
      const data = event.data as KeyRegeneratedV1;
      try {
        this.hold(data);
      } catch (error) {
        // This node cannot use the key (wrong KEK?): it keeps the old one and shows as a mismatch.
        this.log('error', `key cache: cannot take the new ${data.kind} key ${data.kid}: ${(error as Error).message}`);
        this.version = event.streamVersion;
        return;
      }
      await this.record(data.kind);
      this.log('info', `key cache: now holds ${data.kind} key ${data.kid}`);
    }
    this.version = event.streamVersion;
    for (const listener of this.listeners) listener();
  }

  private hold(data: KeyRegeneratedV1): void {
    const material = this.unwrap(data.kid, data.wrapped);
    if (data.kind === 'signing') {
      const privateKey = createPrivateKey({ key: material, format: 'der', type: 'pkcs8' });
      this.signingKey = { kid: data.kid, fingerprint: data.fingerprint, privateKey, publicKey: createPublicKey(privateKey) };
    } else {
      this.encryptionKey = { kid: data.kid, fingerprint: data.fingerprint, secret: createSecretKey(material) };
    }
  }

  private async record(kind: KeyKind): Promise<void> {
    const key = kind === 'signing' ? this.signingKey : this.encryptionKey;
    if (!key) return;
    await this.db.query(
      `INSERT INTO node_key_fingerprints (node_id, kind, kid, fingerprint, last_seen) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (node_id, kind) DO UPDATE SET kid = EXCLUDED.kid, fingerprint = EXCLUDED.fingerprint, last_seen = now()`,
      [this.nodeId, kind, key.kid, key.fingerprint],
    );
  }

  private async touch(): Promise<void> {
    try {
      await this.db.query('UPDATE node_key_fingerprints SET last_seen = now() WHERE node_id = $1', [this.nodeId]);
    } catch (error) {
      this.log('warn', `key cache: heartbeat failed: ${(error as Error).message}`);
    }
  }
}
