import {
  ACCESS_TOKEN_REVOKED,
  AUTHORIZATION_CODE_ISSUED,
  AUTHORIZATION_CODE_REDEEMED,
  CLIENT_REGISTERED,
  CLUSTER_INITIALIZED,
  ENTERPRISE_PARAMETERS_CHANGED,
  KEY_REGENERATED,
  PROJECTION_REPLAYED,
  REFRESH_TOKEN_FAMILY_REVOKED,
  REFRESH_TOKEN_REUSE_DETECTED,
  REFRESH_TOKEN_ROTATED,
  REFRESH_TOKENS_PURGED,
  REFRESH_TOKENS_REVOKED,
  SIGN_IN_FAILED,
  SIGN_IN_SUCCEEDED,
  TOKEN_ISSUED,
  TOKEN_REFRESHED,
  TOKEN_REVOKED,
  USER_REGISTERED,
  type EventEnvelope,
} from '@authz/contracts';

export interface AuditFacts {
  userId: string | null;
  clientId: string | null;
  tokenId: string | null;
  summary: string;
}

type Data = Record<string, any>;
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const who = (d: Data) => (d.userId ? `user ${d.userId}` : `client ${d.clientId}`);

/** What a regeneration did to the tokens issued before it (a bootstrap replaced nothing). */
function regenerationEffect(d: Data): string {
  if (d.reason === 'bootstrap') return '';
  if (d.kind === 'encryption') return '; access tokens encrypted with the previous key are rejected, refresh tokens (not encrypted) still work';
  return d.revokeRefreshTokens === true
    ? '; access tokens signed with the previous key are rejected, and every refresh token issued before it is revoked'
    : '; access tokens signed with the previous key are rejected, refresh tokens still work (the previous key verifies them until they expire)';
}

/**
 * One line a person can read, from the event's own fields only. Key events never show key
 * material (the wrapped key stays in the store); token events show ids, never tokens.
 */
const SUMMARIES: Record<string, (d: Data) => string> = {
  [ENTERPRISE_PARAMETERS_CHANGED]: (d) =>
    `parameters changed: ${Object.entries(d.changes ?? {}).map(([k, v]) => `${k} ${JSON.stringify(d.previous?.[k])} → ${JSON.stringify(v)}`).join(', ')}`,
  [USER_REGISTERED]: (d) => `local user ${d.userId} registered with roles ${(d.roles ?? []).join(', ')}`,
  [CLUSTER_INITIALIZED]: (d) => `cluster ${d.clusterId} initialized`,
  [KEY_REGENERATED]: (d) => `${d.kind} key ${d.reason === 'bootstrap' ? 'created' : 'regenerated'}: kid ${d.kid}, fingerprint ${d.fingerprint}${regenerationEffect(d)}`,
  [CLIENT_REGISTERED]: (d) => `${d.type} client ${d.clientId} ("${d.clientName}") registered for ${(d.grantTypes ?? []).join(', ')}`,
  [TOKEN_ISSUED]: (d) => `${d.grantType} issued an access token${d.refreshToken ? ' and a refresh token' : ''} to ${who(d)} via client ${d.clientId}`,
  [TOKEN_REFRESHED]: (d) => `refresh token ${d.tid} of ${who(d)} gave a new access token`,
  [TOKEN_REVOKED]: (d) => `refresh token ${d.tid} of ${who(d)} revoked (${d.reason})`,
  [REFRESH_TOKEN_ROTATED]: (d) => `refresh token ${d.tid} rotated to ${d.successor?.tid}`,
  [REFRESH_TOKEN_REUSE_DETECTED]: (d) => `reuse of rotated refresh token ${d.tid} from ${d.source?.address ?? 'an unknown address'}`,
  [REFRESH_TOKEN_FAMILY_REVOKED]: (d) => `refresh token family ${d.family} of ${who(d)} revoked (${d.reason}, by the use of ${d.tid})`,
  [ACCESS_TOKEN_REVOKED]: (d) => `access token ${d.jti} of ${who(d)} revoked`,
  [AUTHORIZATION_CODE_ISSUED]: (d) => `authorization code issued to user ${d.userId} for client ${d.clientId}${d.codeChallengeMethod ? ' (PKCE)' : ''}`,
  [AUTHORIZATION_CODE_REDEEMED]: (d) => `authorization code of user ${d.userId} redeemed by client ${d.clientId}`,
  [SIGN_IN_SUCCEEDED]: (d) => `user ${d.userId} signed in (${d.directory}) for client ${d.clientId}`,
  [SIGN_IN_FAILED]: (d) => `sign-in ${d.reason === 'throttled' ? 'throttled' : 'failed'} for ${d.username ?? 'an unnamed user'} (${d.directory}) on client ${d.clientId}`,
  [REFRESH_TOKENS_REVOKED]: (d) =>
    `admin revoked ${d.count} refresh token${d.count === 1 ? '' : 's'} of user ${d.userId}${d.clientId ? ` on client ${d.clientId}` : ' on every client'}`,
  [REFRESH_TOKENS_PURGED]: (d) =>
    `purge (${d.trigger}) deleted ${d.count} expired refresh token${d.count === 1 ? '' : 's'} in ${d.batches} batch${d.batches === 1 ? '' : 'es'}, cutoff ${d.cutoff}${d.capped ? ', stopped at its cap' : ''}`,
  [PROJECTION_REPLAYED]: (d) => `replay of ${d.projection} from ${d.source} position ${d.from}: ${d.events} events in ${d.durationMs} ms`,
};

export function auditFacts(event: EventEnvelope): AuditFacts {
  const d = (event.data ?? {}) as Data;
  return {
    userId: str(d.userId) ?? str(d.username),
    clientId: str(d.clientId),
    tokenId: str(d.tid) ?? str(d.refreshToken?.tid) ?? str(d.jti) ?? str(d.accessToken?.jti),
    summary: (SUMMARIES[event.type]?.(d) ?? event.type).slice(0, 500),
  };
}
