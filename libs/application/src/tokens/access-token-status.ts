import { ACCESS_TOKEN_REVOKED, TOKEN_REVOKED, streamId } from '@authz/contracts';
import type { EventStore } from '../ports';

/**
 * Whether a valid access token was revoked before its expiry: by itself (RFC 7009), or with
 * the grant it came from (a revoked refresh token, a replayed code, a reused rotated token).
 * Read from the event store, so every node answers the same at once.
 */
export async function isAccessTokenRevoked(store: EventStore, claims: { jti: string; tid?: unknown }): Promise<boolean> {
  const streams = [streamId('grant', claims.jti)];
  if (typeof claims.tid === 'string') streams.push(streamId('grant', claims.tid));
  return store.hasEvent(streams, [ACCESS_TOKEN_REVOKED, TOKEN_REVOKED]);
}
