import type { Provider } from '@nestjs/common';
import { mkdirSync } from 'node:fs';
import {
  AUDIT_READ_MODEL,
  CLIENTS_READ_MODEL,
  FAILURE_THROTTLE,
  REFRESH_GRANT_HISTORY,
  REFRESH_TOKEN_DETAILS_READ_MODEL,
  FailureThrottle,
  OAUTH_SETTINGS,
  ACCESS_TOKENS,
  CREDENTIAL_STORE,
  KEY_FACTORY,
  NODE_KEYS_READ_MODEL,
  EVENT_STORE,
  EVENT_TRANSPORT,
  EXPIRED_TOKEN_PURGE,
  ExpiredTokenPurge,
  PARAMETERS_READ_MODEL,
  PASSWORD_HASHER,
  type ParametersReadModel,
  UNIT_OF_WORK,
  type EventTransport,
} from '@authz/application';
import {
  Database,
  EventStore1700000000000,
  EventsByCategory1700000000009,
  GrantDecisions1700000000010,
  OutboxWithoutForeignKey1700000000011,
  OutboxRelay,
  PostgresCredentialStore,
  outboxBacklog,
  PostgresEventStore,
  PostgresRefreshGrantHistory,
  TokenIndex1700000000005,
} from '@authz/event-store';
import { InProcessTransport, KafkaTransport } from '@authz/messaging';
import {
  AuditProjection,
  EnterpriseParameterChangeRow,
  PostgresAuditReadModel,
  PostgresRefreshTokenDetailsReadModel,
  RefreshTokenDetailsProjection,
  EnterpriseParameterRow,
  Clients1700000000003,
  ClientsProjection,
  CachedParametersReadModel,
  KeyCache,
  NodeKeys1700000000002,
  PostgresClientsReadModel,
  PostgresExpiredTokenStore,
  ParametersProjection,
  PostgresNodeKeysReadModel,
  PostgresParametersReadModel,
  ProjectionRunner,
  ReadModels1700000000001,
  TokenDetailsAndAudit1700000000004,
  KeyRegenerationRevocations1700000000020,
  FamilyRevocations1700000000013,
  projectionLag,
  type Projection,
  type ProjectionLag,
} from '@authz/read-models';
import type { AuthzConfig } from './config';
import type { Log } from './log';
import { ScryptPasswordHasher } from './password-hasher';
import { loadKek, unwrapKey, type Kek } from './keys/kek';
import { KekKeyFactory } from './keys/key-factory';
import { KeyCacheAccessTokens } from './keys/access-tokens';
import { Metrics } from './metrics/metrics';
import { tokenCounters } from './metrics/token-metrics';
import { purgeMetrics } from './metrics/purge-metrics';
import { shared, stateGauges } from './metrics/state-metrics';
import { PurgeSchedule } from './purge-schedule';
import { Replayer } from './replay/replayer';
import { ReplayJobs } from './replay/replay-jobs';

export type { Log, LogFields } from './log';

/** A database that takes longer than this to answer SELECT 1 counts as down for readiness. */
const HEALTH_PING_MS = 5_000;

export interface RuntimeOptions {
  relay: boolean;
  projections: boolean;
  /** Hold the cluster keys in memory (server nodes, which mint and validate tokens). */
  keys: boolean;
  log: Log;
  env?: NodeJS.ProcessEnv;
}

export const MIGRATIONS = [
  EventStore1700000000000,
  ReadModels1700000000001,
  NodeKeys1700000000002,
  Clients1700000000003,
  TokenDetailsAndAudit1700000000004,
  TokenIndex1700000000005,
  EventsByCategory1700000000009,
  GrantDecisions1700000000010,
  OutboxWithoutForeignKey1700000000011,
  FamilyRevocations1700000000013,
  KeyRegenerationRevocations1700000000020,
];
/** The read models of the cluster: every projection runner, every replay and every lag report takes this list. */
export const readModelProjections = (): Projection[] => [
  new ParametersProjection(),
  new ClientsProjection(),
  new RefreshTokenDetailsProjection(),
  new AuditProjection(),
];
export const ENTITIES = [EnterpriseParameterRow, EnterpriseParameterChangeRow];

/**
 * The adapters behind the ports, chosen by mode: PostgreSQL + Kafka in cluster mode,
 * PGlite + in-process in embedded mode. Everything above them is the same code.
 */
export class Runtime {
  readonly relay?: OutboxRelay;
  readonly runner?: ProjectionRunner;
  readonly credentials: PostgresCredentialStore;
  readonly hasher = new ScryptPasswordHasher();
  readonly parameters: ParametersReadModel;
  readonly nodeKeys: PostgresNodeKeysReadModel;
  readonly keyFactory?: KekKeyFactory;
  readonly keys?: KeyCache;
  /** This node's Prometheus metrics (GET /metrics); other components add theirs here. */
  readonly metrics = new Metrics();
  /** The read models, whether or not this node runs them: any node reports their lag. */
  readonly projections: readonly Projection[] = readModelProjections();
  /** How far each read model is behind the event store (concurrent callers share one query). */
  readonly projectionLag: () => Promise<ProjectionLag[]> = shared(() => projectionLag(this.db, this.projections));
  /** The purge of expired refresh tokens: run on demand, or daily by `start()`; `status()` for /metrics. */
  readonly purge: ExpiredTokenPurge;
  private purgeSchedule?: PurgeSchedule;
  /** Replays of the read models and of this node's key cache, as background jobs (POST /admin/replay). */
  readonly replays: ReplayJobs;

  private constructor(
    readonly config: AuthzConfig,
    readonly db: Database,
    readonly store: PostgresEventStore,
    readonly transport: EventTransport,
    readonly kek: Kek | undefined,
    private readonly options: RuntimeOptions,
  ) {
    this.credentials = new PostgresCredentialStore(db);
    // Cluster mode reads the parameters on every token request from a projection that lags
    // anyway: a one-second cache costs little more. Embedded mode reads its own projection,
    // queued behind the write, and keeps read-your-writes.
    const parameters = new PostgresParametersReadModel(db);
    const cached = config.mode === 'cluster' ? new CachedParametersReadModel(parameters) : undefined;
    this.parameters = cached ?? parameters;
    this.nodeKeys = new PostgresNodeKeysReadModel(db);
    this.purge = new ExpiredTokenPurge(new PostgresExpiredTokenStore(db), store, { ...config.purge, nodeId: config.nodeId }, options.log);
    const prefix = config.kafka?.topicPrefix ?? 'authz';
    if (kek) {
      this.keyFactory = new KekKeyFactory(kek);
      const unwrap = (kid: string, wrapped: Parameters<typeof unwrapKey>[2]) => unwrapKey(kek, kid, wrapped);
      this.keys = new KeyCache(db, this.store, transport, unwrap, config.nodeId, prefix, options.log);
    }
    if (options.relay) {
      this.relay = new OutboxRelay(db, transport, { pollMs: config.relayPollMs, log: options.log });
    }
    // Only a node that runs projections starts the runner; any node can replay through it
    // (against the shared database), and a runner that is not started subscribes to nothing.
    const runner = new ProjectionRunner(db, store, transport, this.projections, prefix);
    if (cached) runner.onApplied((name) => name === 'parameters' && cached.invalidate());
    if (options.projections) this.runner = runner;
    const history = transport instanceof KafkaTransport ? transport : undefined;
    this.replays = new ReplayJobs(new Replayer(runner, store, this.keys, history), options.log);
    store.onAppended(tokenCounters(this.metrics));
    stateGauges(this.metrics, { outboxBacklog: () => outboxBacklog(db), projectionLag: this.projectionLag }, options.log);
    purgeMetrics(this.metrics, () => this.purge.status());
  }

  static async create(config: AuthzConfig, options: RuntimeOptions): Promise<Runtime> {
    if (config.mode === 'embedded') mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    // Only nodes that hold keys need the KEK; the projector never sees key material.
    const kek = options.keys ? loadKek(options.env ?? process.env, config.mode, config.dataDir) : undefined;
    const db = await Database.open({
      url: config.databaseUrl,
      dataDir: `${config.dataDir}/pgdata`,
      migrations: MIGRATIONS,
      entities: ENTITIES,
      timeoutMs: config.databaseTimeoutMs,
    });
    let transport: EventTransport;
    if (config.kafka) {
      const kafka = new KafkaTransport({ ...config.kafka, clientId: `authz-${config.nodeId}`, log: options.log });
      await kafka.ensureTopics();
      transport = kafka;
    } else {
      transport = new InProcessTransport((message, fields) => options.log('warn', message, fields));
    }
    return new Runtime(config, db, new PostgresEventStore(db, config.nodeId), transport, kek, options);
  }

  /** Starts relaying and projecting. Projections subscribe first, so that nothing relayed is missed. */
  async start(): Promise<void> {
    await this.keys?.start();
    await this.runner?.start({ catchUpFromStore: this.config.mode === 'embedded' });
    this.relay?.start();
    if (this.config.purge.at) {
      this.purgeSchedule = new PurgeSchedule(this.config.purge.at, this.purge, this.options.log);
      this.purgeSchedule.start();
    }
  }

  private closed?: Promise<void>;

  /** Nest calls this on shutdown (SIGTERM with shutdown hooks enabled). */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    // A running purge stops after its batch and records what it deleted while the database is there.
    this.purgeSchedule?.stop();
    await this.purge.stop();
    await this.relay?.stop();
    await this.keys?.stop();
    await this.runner?.stop();
    await this.transport.close();
    await this.db.close();
  }

  async health(): Promise<{ database: boolean; transport: boolean }> {
    const [database, transport] = await Promise.all([
      this.db.ping(Math.min(HEALTH_PING_MS, this.config.databaseTimeoutMs)),
      this.transport.healthy(),
    ]);
    return { database, transport };
  }

  providers(): Provider[] {
    return [
      { provide: Runtime, useValue: this },
      { provide: FAILURE_THROTTLE, useValue: new FailureThrottle(this.config.throttle) },
      { provide: OAUTH_SETTINGS, useValue: { refreshGraceSeconds: this.config.refreshGraceSeconds, codeLifetimeSeconds: this.config.codeLifetimeSeconds } },
      { provide: EVENT_STORE, useValue: this.store },
      { provide: UNIT_OF_WORK, useValue: this.db },
      { provide: EVENT_TRANSPORT, useValue: this.transport },
      { provide: CREDENTIAL_STORE, useValue: this.credentials },
      { provide: PASSWORD_HASHER, useValue: this.hasher },
      { provide: PARAMETERS_READ_MODEL, useValue: this.parameters },
      { provide: NODE_KEYS_READ_MODEL, useValue: this.nodeKeys },
      { provide: CLIENTS_READ_MODEL, useValue: new PostgresClientsReadModel(this.db) },
      { provide: REFRESH_GRANT_HISTORY, useValue: new PostgresRefreshGrantHistory(this.db) },
      { provide: REFRESH_TOKEN_DETAILS_READ_MODEL, useValue: new PostgresRefreshTokenDetailsReadModel(this.db) },
      { provide: AUDIT_READ_MODEL, useValue: new PostgresAuditReadModel(this.db) },
      { provide: EXPIRED_TOKEN_PURGE, useValue: this.purge },
      ...(this.keyFactory ? [{ provide: KEY_FACTORY, useValue: this.keyFactory }] : []),
      ...(this.keys ? [{ provide: ACCESS_TOKENS, useValue: new KeyCacheAccessTokens(this.keys) }] : []),
    ];
  }
}
