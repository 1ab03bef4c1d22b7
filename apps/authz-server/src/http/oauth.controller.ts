import { Body, Controller, Get, Headers, HttpCode, HttpStatus, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ValidationError, hasNul, nulCharacterError } from '@authz/domain';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import {
  AuthorizationCodeGrantCommand,
  RefreshTokenGrantCommand,
  RevokeTokenCommand,
  ClientCredentialsGrantCommand,
  IntrospectTokenQuery,
  ListClientsQuery,
  OAuthError,
  RegisterClientCommand,
  parseLimit,
  type ClientCredentials,
} from '@authz/application';
import { RolesGuard, type AuthenticatedRequest } from './admin.guard';
import { requestContext } from './request-context';

type Form = Record<string, unknown>;

const MAX_PARAMETER_LENGTH = 8192;

/** A single-valued form parameter; a repeated or oversize one is an invalid request (RFC 6749 §3.1). */
function param(form: Form, name: string): string | undefined {
  const value = form[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new OAuthError('invalid_request', `parameter ${name} must be given once`);
  if (value.length > MAX_PARAMETER_LENGTH) throw new OAuthError('invalid_request', `parameter ${name} is too long`);
  return value;
}

/**
 * The token of /oauth/introspect and /oauth/revoke: given once, but of any length. A token this
 * server cannot validate (oversize, garbage, wrong alg, unknown kid …) is an inactive one (RFC
 * 7662 §2.2) or one there is nothing to revoke for (RFC 7009 §2.2), not a bad request: the token
 * library refuses an oversize one before reading it (MAX_TOKEN_LENGTH).
 */
function tokenParam(form: Form): string | undefined {
  const value = form.token;
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new OAuthError('invalid_request', 'parameter token must be given once');
  return value;
}

/**
 * The body limit of /oauth/introspect and /oauth/revoke: Fastify's default of 1 MiB rather than
 * the 64 KiB of every other endpoint. The token endpoints answer "inactive" (RFC 7662 §2.2) or
 * 200 (RFC 7009 §2.2) for a token they cannot validate, however long, and a resource server that
 * forwards whatever it was sent should get that answer, not an error, for anything a client could
 * plausibly have been handed (our tokens are ~1.2 KB; other servers' JWTs with many claims reach
 * tens of KB). A limit still stands, because the whole body is read and parsed before the client
 * is authenticated: past 1 MiB the request is not a token question but an attempt to make the
 * server buffer, and it gets 413 invalid_request.
 */
export const TOKEN_ENDPOINT_BODY_LIMIT_BYTES = 1024 * 1024;
export const TOKEN_ENDPOINT_BODY_LIMITS: Readonly<Record<string, number>> = {
  '/oauth/introspect': TOKEN_ENDPOINT_BODY_LIMIT_BYTES,
  '/oauth/revoke': TOKEN_ENDPOINT_BODY_LIMIT_BYTES,
};

function decodeFormComponent(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/** RFC 6749 §2.3.1: HTTP Basic (form-encoded id and secret) or client_id/client_secret in the body, not both. */
export function clientCredentials(req: AuthenticatedRequest, form: Form): ClientCredentials {
  return { ...readClientCredentials(req.headers.authorization, form), sourceAddress: req.ip };
}

function readClientCredentials(authorization: string | undefined, form: Form): ClientCredentials {
  const bodyId = param(form, 'client_id');
  const bodySecret = param(form, 'client_secret');
  if (authorization) {
    const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(authorization);
    if (bodySecret !== undefined) throw new OAuthError('invalid_request', 'use one client authentication method, not two');
    if (!match) throw new OAuthError('invalid_client', 'the Authorization header is not HTTP Basic');
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new OAuthError('invalid_client', 'malformed HTTP Basic credentials');
    let clientId: string;
    let clientSecret: string;
    try {
      clientId = decodeFormComponent(decoded.slice(0, colon));
      clientSecret = decodeFormComponent(decoded.slice(colon + 1));
    } catch {
      throw new OAuthError('invalid_client', 'malformed HTTP Basic credentials');
    }
    // Raw or form-encoded (%00): the body's own fields are checked before the handler.
    if (hasNul(clientId) || hasNul(clientSecret)) throw nulCharacterError('the HTTP Basic credentials');
    if (bodyId !== undefined && bodyId !== clientId) throw new OAuthError('invalid_request', 'client_id differs from the authenticated client');
    return { clientId, clientSecret };
  }
  if (bodyId === undefined) throw new OAuthError('invalid_client', 'client authentication is required');
  return { clientId: bodyId, clientSecret: bodySecret };
}

function requireForm(contentType: string | undefined, body: unknown): Form {
  if (!/^application\/x-www-form-urlencoded\b/i.test(contentType ?? '')) {
    throw new OAuthError('invalid_request', 'the request must be application/x-www-form-urlencoded');
  }
  return (body ?? {}) as Form;
}

@Controller('oauth')
export class OAuthController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @Post('token')
  @HttpCode(HttpStatus.OK)
  async token(
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    res.header('Cache-Control', 'no-store');
    res.header('Pragma', 'no-cache');
    const form = requireForm(contentType, body);
    const grantType = param(form, 'grant_type');
    if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required');
    const client = clientCredentials(req, form);
    const context = requestContext(req);
    switch (grantType) {
      case 'client_credentials':
        return this.commandBus.execute(new ClientCredentialsGrantCommand(client, param(form, 'scope'), context));
      case 'authorization_code':
        return this.commandBus.execute(
          new AuthorizationCodeGrantCommand(client, param(form, 'code'), param(form, 'redirect_uri'), param(form, 'code_verifier'), context),
        );
      case 'refresh_token':
        return this.commandBus.execute(new RefreshTokenGrantCommand(client, param(form, 'refresh_token'), context));
    }
    throw new OAuthError('unsupported_grant_type', `grant_type ${grantType.slice(0, 64)} is not supported`);
  }

  @Post('revoke')
  @HttpCode(HttpStatus.OK)
  async revoke(@Body() body: unknown, @Headers('content-type') contentType: string | undefined, @Req() req: AuthenticatedRequest) {
    const form = requireForm(contentType, body);
    const client = clientCredentials(req, form);
    const token = tokenParam(form);
    if (!token) throw new OAuthError('invalid_request', 'token is required');
    await this.commandBus.execute(new RevokeTokenCommand(client, token, param(form, 'token_type_hint'), requestContext(req)));
    return {};
  }

  @Post('introspect')
  @HttpCode(HttpStatus.OK)
  introspect(@Body() body: unknown, @Headers('content-type') contentType: string | undefined, @Req() req: AuthenticatedRequest) {
    const form = requireForm(contentType, body);
    const caller = clientCredentials(req, form);
    const token = tokenParam(form);
    if (!token) throw new OAuthError('invalid_request', 'token is required');
    return this.queryBus.execute(new IntrospectTokenQuery(caller, token));
  }
}

const CURSOR = /^[A-Za-z0-9._~-]{1,128}$/;

@Controller('admin/clients')
@UseGuards(RolesGuard)
export class ClientsController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  /** From the clients projection: a client registered a moment ago on another node may take a moment to show. */
  @Get()
  list(@Query('cursor') cursor?: string, @Query('limit') limit?: string) {
    const n = parseLimit(limit, 100);
    if (cursor !== undefined && !CURSOR.test(cursor)) throw new ValidationError('INVALID_CURSOR', 'cursor is not one this server gave');
    return this.queryBus.execute(new ListClientsQuery(cursor, n));
  }

  @Post()
  @HttpCode(HttpStatus.CREATED)
  create(@Body() body: unknown, @Req() req: AuthenticatedRequest) {
    return this.commandBus.execute(new RegisterClientCommand(body, requestContext(req)));
  }
}
