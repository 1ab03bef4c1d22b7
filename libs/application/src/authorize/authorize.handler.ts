import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  newEvent,
  SIGN_IN_FAILED,
  SIGN_IN_SUCCEEDED,
  TOKEN_ISSUED,
  streamId,
  type SignInFailedV1,
  type SignInSucceededV1,
  type TokenIssuedV1,
} from '@authz/contracts';
import { AuthorizationCode } from '@authz/domain';
import {
  ACCESS_TOKENS,
  EVENT_STORE,
  OAUTH_SETTINGS,
  PARAMETERS_READ_MODEL,
  USER_DIRECTORY,
  type AccessTokens,
  type EventStore,
  type OAuthSettings,
  type ParametersReadModel,
  type UserDirectory,
} from '../ports';
import { AuthorizeCommand, type AuthorizeResult } from './authorize.command';
import { ClientAuthenticator } from '../clients/authenticate-client/authenticate-client';
import { FAILURE_THROTTLE, ThrottledError, type FailureThrottle } from '../throttle/failure-throttle';
import type { RequestContext } from '../ports';

const LOOKS_LIKE_USER_ID = /^[A-Za-z0-9._@-]{1,128}$/;
import { checkAuthorizationRequest, type AuthorizationCheck } from './authorization-request';

export function codeStream(code: string): string {
  return streamId('authcode', createHash('sha256').update(code).digest('hex'));
}

/** The redirect for an error the client should see (RFC 6749 §4.1.2.1, §4.2.2.1). */
export function errorRedirect(check: Extract<AuthorizationCheck, { redirect: true }>): string {
  return withParams(check.redirectUri, check.responseType, { error: check.error, error_description: check.description, state: check.state });
}

export function withParams(redirectUri: string, responseType: 'code' | 'token', params: Record<string, string | undefined>): string {
  const query = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
  if (responseType === 'token') return `${redirectUri}#${query}`;
  const url = new URL(redirectUri);
  for (const [name, value] of query) url.searchParams.append(name, value);
  return url.toString();
}

@CommandHandler(AuthorizeCommand)
export class AuthorizeHandler implements ICommandHandler<AuthorizeCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(USER_DIRECTORY) private readonly directory: UserDirectory,
    @Inject(ACCESS_TOKENS) private readonly tokens: AccessTokens,
    @Inject(PARAMETERS_READ_MODEL) private readonly parameters: ParametersReadModel,
    @Inject(FAILURE_THROTTLE) private readonly throttle: FailureThrottle,
    @Inject(OAUTH_SETTINGS) private readonly settings: OAuthSettings,
    private readonly clients: ClientAuthenticator,
  ) {}

  async execute({ params, username, password, context }: AuthorizeCommand): Promise<AuthorizeResult> {
    const { values } = await this.parameters.current();
    const check = await checkAuthorizationRequest(params, this.clients, values.oauthWithRefreshLoginFlow === 'Enabled');
    if (!check.ok) {
      return check.redirect ? { outcome: 'redirect', location: errorRedirect(check) } : { outcome: 'error_page', error: check.error, description: check.description };
    }
    const { request } = check;
    const account = `user:${username.toLowerCase()}`;
    try {
      this.throttle.check(account, context.sourceAddress);
    } catch (error) {
      if (error instanceof ThrottledError) await this.signInFailed(username, request.clientId, 'throttled', context);
      throw error;
    }
    const user = await this.directory.authenticate(username, password);
    if (!user) {
      this.throttle.fail(account, context.sourceAddress);
      await this.signInFailed(username, request.clientId, 'bad_credentials', context);
      return { outcome: 'login_failed' };
    }
    this.throttle.succeed(account);
    await this.record<SignInSucceededV1>(SIGN_IN_SUCCEEDED, { userId: user.userId, clientId: request.clientId, directory: this.directory.name, sourceAddress: context.sourceAddress ?? null }, { ...context, actor: `user:${user.userId}` });
    const actor = { ...context, actor: `user:${user.userId}` };
    if (request.responseType === 'token') {
      const lifetime = values.accessTokenExpiryMinutes * 60;
      const minted = await this.tokens.mint({ sub: user.userId, client_id: request.clientId, scope: request.scope }, lifetime);
      const issued: TokenIssuedV1 = {
        grantType: 'implicit',
        clientId: request.clientId,
        userId: user.userId,
        scope: request.scope,
        accessToken: { jti: minted.jti, expiresAt: minted.expiresAt.toISOString() },
      };
      await this.store.append(streamId('grant', minted.jti), 0, [newEvent(TOKEN_ISSUED, issued)], actor);
      return {
        outcome: 'redirect',
        location: withParams(request.redirectUri, 'token', {
          access_token: minted.token,
          token_type: 'Bearer',
          expires_in: String(lifetime),
          scope: request.scope,
          state: request.state,
        }),
      };
    }
    const code = randomBytes(32).toString('base64url');
    const authorizationCode = new AuthorizationCode();
    authorizationCode.issue({
      clientId: request.clientId,
      userId: user.userId,
      redirectUri: request.redirectUri,
      scope: request.scope,
      codeChallenge: request.codeChallenge ?? null,
      codeChallengeMethod: request.codeChallenge ? 'S256' : null,
      expiresAt: new Date(Date.now() + this.settings.codeLifetimeSeconds * 1000).toISOString(),
    });
    await this.store.append(codeStream(code), 0, authorizationCode.uncommittedEvents(), actor);
    return { outcome: 'redirect', location: withParams(request.redirectUri, 'code', { code, state: request.state }) };
  }

  private signInFailed(username: string, clientId: string, reason: SignInFailedV1['reason'], context: RequestContext): Promise<void> {
    return this.record<SignInFailedV1>(
      SIGN_IN_FAILED,
      {
        username: LOOKS_LIKE_USER_ID.test(username) ? username : null,
        clientId,
        directory: this.directory.name,
        reason,
        sourceAddress: context.sourceAddress ?? null,
      },
      { ...context, actor: 'anonymous' },
    );
  }

  /** Each sign-in is a stream of its own: no two attempts ever contend. */
  private async record<D>(type: string, data: D, context: RequestContext): Promise<void> {
    await this.store.append(streamId('signin', randomUUID()), 0, [newEvent(type, data)], context);
  }
}
