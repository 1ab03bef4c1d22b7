import type { DomainEvent, EventEnvelope } from './envelope';
import { ENTERPRISE_PARAMETERS_CHANGED } from './parameters.events';
import { USER_REGISTERED } from './user.events';
import { CLUSTER_INITIALIZED, KEY_REGENERATED, upcastKeyRegeneratedV1 } from './keyring.events';
import { CLIENT_REGISTERED } from './client.events';
import { AUTHORIZATION_CODE_ISSUED, AUTHORIZATION_CODE_REDEEMED, TOKEN_ISSUED, TOKEN_REFRESHED, TOKEN_REVOKED, REFRESH_TOKEN_ROTATED, REFRESH_TOKEN_REUSE_DETECTED, ACCESS_TOKEN_REVOKED } from './token.events';
import { SIGN_IN_FAILED, SIGN_IN_SUCCEEDED } from './signin.events';
import { REFRESH_TOKEN_FAMILY_REVOKED, REFRESH_TOKENS_REVOKED } from './revocation.events';
import { PROJECTION_REPLAYED, REFRESH_TOKENS_PURGED } from './maintenance.events';

/** The schema version each event type is written with today. */
export const CURRENT_SCHEMA_VERSIONS: Readonly<Record<string, number>> = {
  [ENTERPRISE_PARAMETERS_CHANGED]: 1,
  [USER_REGISTERED]: 1,
  [CLUSTER_INITIALIZED]: 1,
  [KEY_REGENERATED]: 2,
  [CLIENT_REGISTERED]: 1,
  [TOKEN_ISSUED]: 1,
  [TOKEN_REFRESHED]: 1,
  [TOKEN_REVOKED]: 1,
  [REFRESH_TOKEN_ROTATED]: 1,
  [REFRESH_TOKEN_REUSE_DETECTED]: 1,
  [ACCESS_TOKEN_REVOKED]: 1,
  [SIGN_IN_SUCCEEDED]: 1,
  [SIGN_IN_FAILED]: 1,
  [AUTHORIZATION_CODE_ISSUED]: 1,
  [AUTHORIZATION_CODE_REDEEMED]: 1,
  [REFRESH_TOKENS_REVOKED]: 1,
  [REFRESH_TOKEN_FAMILY_REVOKED]: 1,
  [REFRESH_TOKENS_PURGED]: 1,
  [PROJECTION_REPLAYED]: 1,
};

/** A new event of a type, at the schema version it is written with today. */
export function newEvent<D>(type: string, data: D): DomainEvent<D> {
  const schemaVersion = CURRENT_SCHEMA_VERSIONS[type];
  if (schemaVersion === undefined) throw new Error(`unknown event type ${type}`);
  return { type, schemaVersion, data };
}

export type Upcaster = (data: unknown) => unknown;
export type UpcasterTable = Record<string, Record<number, Upcaster>>;

/**
 * Upcasters turn an old payload into the next version's: `upcasters[type][v]` maps v → v+1.
 * Readers call `upcast` so that they only ever see current schemas.
 */
const UPCASTERS: UpcasterTable = {
  [KEY_REGENERATED]: { 1: upcastKeyRegeneratedV1 },
};

export function upcast<D = unknown>(
  event: EventEnvelope,
  upcasters: UpcasterTable = UPCASTERS,
  versions: Readonly<Record<string, number>> = CURRENT_SCHEMA_VERSIONS,
): EventEnvelope<D> {
  const target = versions[event.type];
  if (target === undefined || event.schemaVersion >= target) return event as EventEnvelope<D>;
  let { data, schemaVersion } = event;
  while (schemaVersion < target) {
    const step = upcasters[event.type]?.[schemaVersion];
    if (!step) throw new Error(`no upcaster for ${event.type} v${schemaVersion}`);
    data = step(data);
    schemaVersion += 1;
  }
  return { ...event, data, schemaVersion } as EventEnvelope<D>;
}
