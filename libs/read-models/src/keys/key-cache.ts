import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import {
  CLUSTER_INITIALIZED,
  KEY_KINDS,
  KEY_REGENERATED,
  PROJECTION_REPLAYED,
  streamId,
  type ClusterInitializedV1,
  type EventEnvelope,
  type KeyKind,
  type KeyRegeneratedV2,
  type ProjectionReplayedV1,
  type WrappedKey,
} from '@authz/contracts';
import type { EventStore, EventTransport, Subscription } from '@authz/application';
import { retiredKeyVerifiesRefreshTokens } from '@authz/domain';
import { Batcher, HOT_PATH_BATCHING, type Database } from '@authz/event-store';

export interface CachedSigningKey {
  kid: string;
  fingerprint: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/**
 * A signing key a regeneration replaced: its public half only, kept to verify the refresh
 * tokens it signed (never an access token) until `retiredKeyVerifiesRefreshTokens` says no more.
 */
export interface RetiredSigningKey {
  kid: string;
  fingerprint: string;
  publicKey: KeyObject;
  /** When, and at which event position, the regeneration that replaced it happened. */
  retiredAt: string;
  retiredPosition: number;
}

export interface CachedEncryptionKey {
  kid: string;
  fingerprint: string;
  secret: KeyObject;
}

export type Unwrap = (kid: string, wrapped: WrappedKey) => Buffer;

/** What a node holds: the key ring folded up to `version`. */
interface HeldKeys {
  version: number;
  cluster?: string;
  signing?: CachedSigningKey;
  encryption?: CachedEncryptionKey;
  /** Newest first. */
  retired: RetiredSigningKey[];
}

/** The key ring's head and the latest regeneration that revoked refresh tokens, as the event store has them. */
interface KeyRingHead {
  version: number;
  revokedBefore: number;
}

const KEY_RING = streamId('keyring', 'cluster');
/** The name a replay of the key caches goes by (`authz replay keys`). */
export const KEY_CACHE_REPLAY = 'keys';
const HEARTBEAT_MS = 10_000;

/**
 * This node's copy of the cluster keys, unwrapped, in memory only. It loads the key ring
 * from the event store at start, then follows the key events with a consumer of its own,
 * and records in `node_key_fingerprints` what it holds, so that nodes can be compared.
 */
export class KeyCache {
  private held: HeldKeys = { version: 0, retired: [] };
  /** Concurrent refresh grants share one read of the key ring's head. */
  private readonly heads = new Batcher<null, KeyRingHead>(undefined, (batch) => this.readHead(batch.length), HOT_PATH_BATCHING);
  private catchingUp?: Promise<void>;
  private subscription?: Subscription;
  private heartbeat?: NodeJS.Timeout;
  private startedAt = Date.now();
  /** Applies and reloads one at a time: a reload must not drop an event applied while it read. */
  private turn: Promise<unknown> = Promise.resolve();
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
    return this.held.cluster;
  }

  get signing(): CachedSigningKey | undefined {
    return this.held.signing;
  }

  get encryption(): CachedEncryptionKey | undefined {
    return this.held.encryption;
  }

  /** The signing keys regenerations replaced that still verify refresh tokens, newest first. */
  get retiredSigningKeys(): readonly RetiredSigningKey[] {
    const now = Date.now();
    return this.held.retired.filter((key) => retiredKeyVerifiesRefreshTokens(key.retiredAt, now));
  }

  /**
   * The key that verifies a REFRESH token with this kid: the current signing key, or a
   * retired one that has not outlived the longest refresh token lifetime. Never use it for
   * access tokens: those are valid under the current key only (seed S7). Refresh tokens can be
   * trusted longer because the signature is not what makes them valid: the refresh grant also
   * wants the token's hash in the event store, so a token forged with any key is refused.
   */
  refreshVerificationKey(kid: string, now: Date | number = Date.now()): { kid: string; publicKey: KeyObject } | undefined {
    const { signing, retired } = this.held;
    if (signing?.kid === kid) return signing;
    const old = retired.find((key) => key.kid === kid);
    return old && retiredKeyVerifiesRefreshTokens(old.retiredAt, now) ? old : undefined;
  }

  /**
   * The event position of the latest signing key regeneration that revoked refresh tokens (0:
   * none), read from the event store, not from this cache: a regeneration made on another node
   * a moment ago counts before its event reaches this one. Every refresh token whose family
   * began before it is revoked (`assertNotRevokedByKeyRegeneration` in @authz/domain). Seeing
   * the key ring ahead of what it holds, this cache first takes the new keys from the store.
   */
  async refreshTokensRevokedBefore(): Promise<number> {
    const head = await this.heads.add(null);
    if (head.version > this.held.version) {
      this.catchingUp ??= this.refresh().finally(() => (this.catchingUp = undefined));
      await this.catchingUp;
    }
    return head.revokedBefore;
  }

  /** Called after the keys change, e.g. to drop caches of validated tokens. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * Follows the key ring, and the maintenance events: a replay of the key caches started on
   * another node (ProjectionReplayed "keys") makes this node reload its own from the store.
   */
  async start(): Promise<void> {
    this.startedAt = Date.now();
    await this.refresh();
    this.subscription = await this.transport.subscribe(
      { group: `${this.groupPrefix}.keycache.${this.nodeId}`, categories: ['keyring', 'maintenance'], fromBeginning: true },
      async (events) => {
        for (const event of events) {
          if (this.asksForReload(event)) await this.reload();
          else await this.apply(event);
        }
      },
    );
    this.heartbeat = setInterval(() => void this.touch(), HEARTBEAT_MS).unref();
  }

  /** Reads the key ring from the event store: after a change made on this node, it need not wait for the event. */
  refresh(): Promise<void> {
    return this.inTurn(async () => {
      for (const event of await this.store.readStream(KEY_RING)) await this.take(event);
    });
  }

  /**
   * Rebuilds this node's keys from the key ring's events (by default, read from the event
   * store) and swaps them in at once: token requests meanwhile use the keys held before.
   * Answers how many events it read.
   */
  reload(events?: readonly EventEnvelope[]): Promise<number> {
    return this.inTurn(async () => {
      const ring = [...(events ?? (await this.store.readStream(KEY_RING)))]
        .filter((e) => e.streamId === KEY_RING)
        .sort((a, b) => a.streamVersion - b.streamVersion);
      const fresh: HeldKeys = { version: 0, retired: [] };
      for (const event of ring) this.fold(fresh, event);
      this.held = fresh;
      for (const kind of KEY_KINDS) await this.record(kind);
      this.log('info', `key cache: reloaded from ${ring.length} key ring events (signing ${fresh.signing?.kid ?? 'none'}, encryption ${fresh.encryption?.kid ?? 'none'})`);
      for (const listener of this.listeners) listener();
      return ring.length;
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.subscription?.close();
  }

  /** Applies a key ring event once (by stream version), whichever way it arrived. */
  apply(event: EventEnvelope): Promise<void> {
    return this.inTurn(() => this.take(event));
  }

  /** Another node's replay of the key caches, made after this node loaded its keys. */
  private asksForReload(event: EventEnvelope): boolean {
    return (
      event.type === PROJECTION_REPLAYED &&
      (event.data as ProjectionReplayedV1).projection === KEY_CACHE_REPLAY &&
      event.nodeId !== this.nodeId &&
      Date.parse(event.occurredAt) >= this.startedAt
    );
  }

  private async take(event: EventEnvelope): Promise<void> {
    if (event.streamId !== KEY_RING || event.streamVersion <= this.held.version) return;
    const changed = this.fold(this.held, event);
    if (changed) {
      await this.record(changed);
      const key = changed === 'signing' ? this.held.signing : this.held.encryption;
      this.log('info', `key cache: now holds ${changed} key ${key?.kid}`);
    }
    for (const listener of this.listeners) listener();
  }

  /** Moves `state` past one key ring event; answers the kind of key it now holds anew. */
  private fold(state: HeldKeys, event: EventEnvelope): KeyKind | undefined {
    if (event.streamVersion <= state.version) return undefined;
    state.version = event.streamVersion;
    if (event.type === CLUSTER_INITIALIZED) {
      state.cluster = (event.data as ClusterInitializedV1).clusterId;
      return undefined;
    }
    if (event.type !== KEY_REGENERATED) return undefined;
    const data = event.data as KeyRegeneratedV2;
    try {
      const material = this.unwrap(data.kid, data.wrapped);
      if (data.kind === 'signing') {
        const privateKey = createPrivateKey({ key: material, format: 'der', type: 'pkcs8' });
        const previous = state.signing;
        state.signing = { kid: data.kid, fingerprint: data.fingerprint, privateKey, publicKey: createPublicKey(privateKey) };
        if (previous && previous.kid !== data.kid) {
          // Its refresh tokens keep working (unless the event revoked them, which the refresh grant
          // decides from the store); its access tokens do not: this is a list apart.
          const retired = { kid: previous.kid, fingerprint: previous.fingerprint, publicKey: previous.publicKey, retiredAt: event.occurredAt, retiredPosition: event.position };
          state.retired = [retired, ...state.retired.filter((key) => key.kid !== previous.kid && key.kid !== data.kid && retiredKeyVerifiesRefreshTokens(key.retiredAt))];
        }
      } else {
        state.encryption = { kid: data.kid, fingerprint: data.fingerprint, secret: createSecretKey(material) };
      }
      return data.kind;
    } catch (error) {
      // This node cannot use the key (wrong KEK?): it keeps the old one and shows as a mismatch.
      this.log('error', `key cache: cannot take the new ${data.kind} key ${data.kid}: ${(error as Error).message}`);
      return undefined;
    }
  }

  private async readHead(callers: number): Promise<KeyRingHead[]> {
    const [row] = await this.db.prepared<{ version: number | null; revoked_before: string | null }>(
      'authz_key_ring_head',
      `SELECT max(stream_version) AS version,
              max(position) FILTER (WHERE type = '${KEY_REGENERATED}' AND data->>'kind' = 'signing' AND data->>'revokeRefreshTokens' = 'true') AS revoked_before
         FROM events WHERE stream_id = $1`,
      [KEY_RING],
    );
    const head = { version: Number(row?.version ?? 0), revokedBefore: Number(row?.revoked_before ?? 0) };
    return Array.from({ length: callers }, () => head);
  }

  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const next = this.turn.then(work, work);
    this.turn = next.catch(() => undefined);
    return next;
  }

  private async record(kind: KeyKind): Promise<void> {
    const key = kind === 'signing' ? this.held.signing : this.held.encryption;
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
