import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { MAX_PURGE_ROWS } from '@authz/application';

export interface KafkaConfig {
  brokers: string[];
  topicPrefix: string;
  partitions: number;
  replicationFactor: number;
}

export interface PurgeConfig {
  /** The daily run's time of day, UTC; null: no schedule (AUTHZ_PURGE_AT=off), on demand only. */
  at: { hour: number; minute: number; second?: number } | null;
  batchSize: number;
  pauseMs: number;
  maxRows: number;
  graceSeconds: number;
}

export interface AuthzConfig {
  mode: 'embedded' | 'cluster';
  nodeId: string;
  host: string;
  port: number;
  databaseUrl?: string;
  dataDir: string;
  kafka?: KafkaConfig;
  adminUser?: string;
  adminPassword?: string;
  /** Run the projections inside this process (always in embedded mode). */
  runProjections: boolean;
  relayPollMs: number;
  /** With refresh token rotation on: how long a used token still gets the same successor. */
  refreshGraceSeconds: number;
  codeLifetimeSeconds: number;
  /** Where end users log in: this cluster's accounts, or LDAP (AUTHZ_LDAP_*). */
  directory: 'local' | 'ldap';
  throttle: { perAccount: number; perAddress: number; windowSeconds: number };
  /** The public URL of the cluster (behind a load balancer), for RFC 8414 metadata. */
  issuerUrl?: string;
  /** A node running projections answers unready past this projection lag. */
  readyMaxLagSeconds: number;
  /** Embedded mode: the longest a call waits for the database session, or a transaction holds it. */
  databaseTimeoutMs: number;
  /** When set, GET /metrics wants `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** The purge of expired refresh tokens (seed S14). */
  purge: PurgeConfig;
}

export class ConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  }
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, not "${env[name]}"`);
}

function issuerUrlOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`AUTHZ_ISSUER_URL must be an absolute URL, not "${value}"`);
  }
  if (!['https:', 'http:'].includes(url.protocol) || url.search || url.hash) {
    throw new ConfigError('AUTHZ_ISSUER_URL must be an http(s) URL without query or fragment');
  }
  return value.replace(/\/$/, '');
}

function metricsTokenOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (value.length < 16) throw new ConfigError('AUTHZ_METRICS_TOKEN must be at least 16 characters long');
  return value;
}

function directoryOf(value: string | undefined): 'local' | 'ldap' {
  if (value === undefined || value === '' || value === 'local') return 'local';
  if (value === 'ldap') return 'ldap';
  throw new ConfigError(`AUTHZ_DIRECTORY must be "local" or "ldap", not "${value}"`);
}

/** `HH:MM` or `HH:MM:SS` (UTC), or `off`. */
function timeOfDay(value: string | undefined): PurgeConfig['at'] {
  if (value === undefined || value === '') return { hour: 2, minute: 0 };
  if (value.toLowerCase() === 'off') return null;
  const match = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  const [hour, minute, second] = match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : [NaN, NaN, NaN];
  if (!(hour <= 23 && minute <= 59 && second <= 59)) {
    throw new ConfigError(`AUTHZ_PURGE_AT must be a UTC time of day as HH:MM or HH:MM:SS (e.g. 02:00), or off, not "${value}"`);
  }
  return match![3] === undefined ? { hour, minute } : { hour, minute, second };
}

/** Reads the configuration from the environment; see the README for each variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, defaultPort = 8080): AuthzConfig {
  const databaseUrl = env.AUTHZ_DATABASE_URL || undefined;
  const brokers = env.AUTHZ_KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean);
  if (Boolean(databaseUrl) !== Boolean(brokers?.length)) {
    throw new ConfigError('cluster mode needs both AUTHZ_DATABASE_URL and AUTHZ_KAFKA_BROKERS (embedded mode: neither)');
  }
  const mode = databaseUrl ? 'cluster' : 'embedded';
  const port = integer(env, 'AUTHZ_PORT', defaultPort, 0, 65535);
  return {
    mode,
    nodeId: env.AUTHZ_NODE_ID || `${hostname()}:${port}`,
    host: env.AUTHZ_HOST || '127.0.0.1',
    port,
    databaseUrl,
    dataDir: resolve(env.AUTHZ_DATA_DIR || '.authz-data'),
    kafka: brokers?.length
      ? {
          brokers,
          topicPrefix: env.AUTHZ_KAFKA_TOPIC_PREFIX || 'authz',
          partitions: integer(env, 'AUTHZ_KAFKA_PARTITIONS', 3, 1, 1000),
          replicationFactor: integer(env, 'AUTHZ_KAFKA_REPLICATION_FACTOR', 1, 1, 10),
        }
      : undefined,
    adminUser: env.AUTHZ_ADMIN_USER || undefined,
    adminPassword: env.AUTHZ_ADMIN_PASSWORD || undefined,
    runProjections: mode === 'embedded' || flag(env, 'AUTHZ_RUN_PROJECTIONS', false),
    relayPollMs: integer(env, 'AUTHZ_RELAY_POLL_MS', 20, 5, 60_000),
    refreshGraceSeconds: integer(env, 'AUTHZ_REFRESH_GRACE_SECONDS', 10, 0, 300),
    codeLifetimeSeconds: integer(env, 'AUTHZ_CODE_LIFETIME_SECONDS', 60, 1, 600),
    directory: directoryOf(env.AUTHZ_DIRECTORY),
    issuerUrl: issuerUrlOf(env.AUTHZ_ISSUER_URL),
    readyMaxLagSeconds: integer(env, 'AUTHZ_READY_MAX_LAG_SECONDS', 60, 1, 86_400),
    databaseTimeoutMs: integer(env, 'AUTHZ_DATABASE_TIMEOUT_MS', 30_000, 100, 600_000),
    metricsToken: metricsTokenOf(env.AUTHZ_METRICS_TOKEN),
    throttle: {
      perAccount: integer(env, 'AUTHZ_THROTTLE_ACCOUNT_FAILURES', 5, 1, 10_000),
      perAddress: integer(env, 'AUTHZ_THROTTLE_ADDRESS_FAILURES', 30, 1, 100_000),
      windowSeconds: integer(env, 'AUTHZ_THROTTLE_WINDOW_SECONDS', 300, 1, 86_400),
    },
    purge: {
      at: timeOfDay(env.AUTHZ_PURGE_AT),
      batchSize: integer(env, 'AUTHZ_PURGE_BATCH_SIZE', 5_000, 1, 100_000),
      pauseMs: integer(env, 'AUTHZ_PURGE_PAUSE_MS', 50, 0, 60_000),
      maxRows: integer(env, 'AUTHZ_PURGE_MAX_ROWS', 1_000_000, 1, MAX_PURGE_ROWS),
      graceSeconds: integer(env, 'AUTHZ_PURGE_GRACE_SECONDS', 0, 0, 31_536_000),
    },
  };
}
