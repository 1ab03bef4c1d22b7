import {
  ACCESS_TOKEN_REVOKED,
  REFRESH_TOKENS_REVOKED,
  TOKEN_ISSUED,
  TOKEN_REFRESHED,
  TOKEN_REVOKED,
  type AccessTokenRevokedV1,
  type EventEnvelope,
  type RefreshTokensRevokedV1,
  type TokenIssuedV1,
  type TokenRefreshedV1,
  type TokenRevokedV1,
} from '@authz/contracts';
import type { Metrics } from './metrics';

export type TokenCount =
  | { metric: 'issued'; labels: { grant_type: string; client_id: string }; by: number }
  | { metric: 'refreshed'; labels: { client_id: string }; by: number }
  | { metric: 'revoked'; labels: { token_type: 'access' | 'refresh'; reason: string; client_id: string }; by: number };

/** An admin revocation of a user's tokens across all their clients. */
export const ALL_CLIENTS = '*';

/**
 * What one event adds to the token counters. A token response to the refresh_token grant is
 * a TokenRefreshed (rotation off) or a TokenIssued of that grant (rotation on, or a retry
 * within the grace window): each counts once as issued and once as refreshed.
 */
export function tokenCounts(event: EventEnvelope): TokenCount[] {
  switch (event.type) {
    case TOKEN_ISSUED: {
      const data = event.data as TokenIssuedV1;
      const issued: TokenCount = { metric: 'issued', labels: { grant_type: data.grantType, client_id: data.clientId }, by: 1 };
      return data.grantType === 'refresh_token' ? [issued, { metric: 'refreshed', labels: { client_id: data.clientId }, by: 1 }] : [issued];
    }
    case TOKEN_REFRESHED: {
      const { clientId } = event.data as TokenRefreshedV1;
      return [
        { metric: 'issued', labels: { grant_type: 'refresh_token', client_id: clientId }, by: 1 },
        { metric: 'refreshed', labels: { client_id: clientId }, by: 1 },
      ];
    }
    case TOKEN_REVOKED: {
      const { clientId, reason } = event.data as TokenRevokedV1;
      return [{ metric: 'revoked', labels: { token_type: 'refresh', reason, client_id: clientId }, by: 1 }];
    }
    case ACCESS_TOKEN_REVOKED: {
      const { clientId } = event.data as AccessTokenRevokedV1;
      return [{ metric: 'revoked', labels: { token_type: 'access', reason: 'client_request', client_id: clientId }, by: 1 }];
    }
    case REFRESH_TOKENS_REVOKED: {
      const { clientId, count } = event.data as RefreshTokensRevokedV1;
      if (count <= 0) return [];
      return [{ metric: 'revoked', labels: { token_type: 'refresh', reason: 'admin', client_id: clientId ?? ALL_CLIENTS }, by: count }];
    }
    default:
      return [];
  }
}

/** The token counters, fed with the events this node appends (each node counts its own). */
export function tokenCounters(metrics: Metrics): (events: readonly EventEnvelope[]) => void {
  const issued = metrics.counter({
    name: 'authz_tokens_issued_total',
    help: 'Token responses by grant type and client (a refresh counts as grant_type="refresh_token")',
    labelNames: ['grant_type', 'client_id'],
  });
  const refreshed = metrics.counter({
    name: 'authz_tokens_refreshed_total',
    help: 'Successful refresh_token grants by client',
    labelNames: ['client_id'],
  });
  const revoked = metrics.counter({
    name: 'authz_tokens_revoked_total',
    help: `Revoked tokens by type (access, refresh), reason (client_request, code_replayed, reuse_detected, admin) and client (${ALL_CLIENTS}: all of a user's)`,
    labelNames: ['token_type', 'reason', 'client_id'],
  });
  return (events) => {
    for (const event of events) {
      for (const count of tokenCounts(event)) {
        if (count.metric === 'issued') issued.inc(count.labels, count.by);
        else if (count.metric === 'refreshed') refreshed.inc(count.labels, count.by);
        else revoked.inc(count.labels, count.by);
      }
    }
  };
}
