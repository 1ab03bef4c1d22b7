import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ACCESS_TOKEN_REVOKED, newEvent, streamId, type AccessTokenRevokedV1 } from '@authz/contracts';
import { RefreshGrant } from '@authz/domain';
import { ClientAuthenticator } from '../../clients/authenticate-client/authenticate-client';
import {
  ACCESS_TOKENS,
  EVENT_STORE,
  type AccessTokens,
  type EventStore,
  type RequestContext,
} from '../../ports';
import { retryOnConflict } from '../../retry-on-conflict';
import { RevokeTokenCommand } from './revoke-token.command';

/**
 * RFC 7009. A refresh token: its grant is revoked, and with it the access tokens it gave. An
 * access token: recorded as revoked, so introspection answers it inactive (a resource server
 * validating locally sees it valid until it expires: that is the price of self-contained
 * tokens, kept short by the access token expiry timer). An invalid or unknown token is not an
 * error (§2.2).
 */
@CommandHandler(RevokeTokenCommand)
export class RevokeTokenHandler implements ICommandHandler<RevokeTokenCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ACCESS_TOKENS) private readonly tokens: AccessTokens,
    private readonly clients: ClientAuthenticator,
  ) {}

  async execute({ client: credentials, token, context }: RevokeTokenCommand): Promise<void> {
    const client = await this.clients.authenticate(credentials, false);
    const clientId = client.details!.clientId;
    const check = await this.tokens.validateRefresh(token);
    if (!check.valid) {
      const access = await this.tokens.validate(token);
      if (access.valid && access.claims.client_id === clientId) await this.revokeAccessToken(access.claims, context);
      return;
    }
    // Another client's token: nothing happens, and nothing tells the caller it exists.
    if (check.clientId !== clientId) return;
    const stream = streamId('grant', check.tid);
    await retryOnConflict(async () => {
      const grant = new RefreshGrant().loadFromHistory(await this.store.readStream(stream));
      if (grant.details?.refreshToken.hash !== check.hash) return;
      grant.revoke('client_request');
      await this.store.appendAll([{ streamId: stream, expectedVersion: grant.version, events: grant.uncommittedEvents(), decisive: true }], {
        ...context,
        actor: `client:${clientId}`,
      });
    });
  }

  private async revokeAccessToken(claims: { jti: string; client_id: string; sub: string; exp: number }, context: RequestContext): Promise<void> {
    const stream = streamId('grant', claims.jti);
    const data: AccessTokenRevokedV1 = {
      jti: claims.jti,
      clientId: claims.client_id,
      userId: claims.sub === claims.client_id ? null : claims.sub,
      expiresAt: new Date(claims.exp * 1000).toISOString(),
    };
    await retryOnConflict(async () => {
      const events = await this.store.readStream(stream);
      if (events.some((e) => e.type === ACCESS_TOKEN_REVOKED)) return;
      await this.store.append(stream, events.length, [newEvent(ACCESS_TOKEN_REVOKED, data)], {
        ...context,
        actor: `client:${claims.client_id}`,
      });
    });
  }
}
