import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { streamId } from '@authz/contracts';
import { RefreshGrant } from '@authz/domain';
import { ClientAuthenticator } from '../../clients/authenticate-client/authenticate-client';
import { OAuthError } from '../../oauth-error';
import {
  ACCESS_TOKENS,
  EVENT_STORE,
  type AccessTokens,
  type EventStore,
} from '../../ports';
import { retryOnConflict } from '../../retry-on-conflict';
import { RevokeTokenCommand } from './revoke-token.command';

/**
 * RFC 7009 for refresh tokens: the grant is revoked, and an invalid or unknown token is not an
 * error (§2.2). A valid access token is answered with unsupported_token_type: access tokens
 * are self-contained and this server cannot yet recall one before it expires.
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
      if ((await this.tokens.validate(token)).valid) {
        throw new OAuthError('unsupported_token_type', 'access tokens cannot be revoked here; they expire on their own');
      }
      return;
    }
    // Another client's token: nothing happens, and nothing tells the caller it exists.
    if (check.clientId !== clientId) return;
    const stream = streamId('grant', check.tid);
    await retryOnConflict(async () => {
      const grant = new RefreshGrant().loadFromHistory(await this.store.readStream(stream));
      if (grant.details?.refreshToken.hash !== check.hash) return;
      grant.revoke('client_request');
      await this.store.append(stream, grant.version, grant.uncommittedEvents(), { ...context, actor: `client:${clientId}` });
    });
  }
}
