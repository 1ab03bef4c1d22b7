import { ForbiddenException, Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { QueryBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '@authz/contracts';
import { hasNul, nulCharacterError } from '@authz/domain';
import { FAILURE_THROTTLE, VerifiedCredentials, VerifyCredentialsQuery, type FailureThrottle, type Principal } from '@authz/application';

export const REQUIRED_ROLES = Reflector.createDecorator<Role[]>();

const CACHE_TTL_MS = 30_000;
const CACHE_MAX = 1_000;

export interface AuthenticatedRequest extends FastifyRequest {
  principal?: Principal;
}

function unauthorized(description: string): UnauthorizedException {
  return new UnauthorizedException({ error: 'invalid_client', error_description: description });
}

/**
 * Parses `Authorization: Basic base64(user:password)`; null when absent or malformed. Throws
 * the 400 of a NUL character (no account name or password holds one).
 */
export function parseBasic(header: string | undefined): { user: string; password: string } | null {
  const match = /^Basic ([A-Za-z0-9+/=]{1,1024})$/i.exec(header ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  if (hasNul(decoded)) throw nulCharacterError('the HTTP Basic credentials');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * HTTP Basic authentication of accounts with a role. Verified credentials are remembered
 * for a short while (VerifiedCredentials), so that an admin script does not pay scrypt per request.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  private readonly verified = new VerifiedCredentials<Principal>(CACHE_TTL_MS, CACHE_MAX);

  constructor(
    private readonly queryBus: QueryBus,
    private readonly reflector: Reflector,
    @Inject(FAILURE_THROTTLE) private readonly throttle: FailureThrottle,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const roles = this.reflector.getAllAndOverride(REQUIRED_ROLES, [context.getHandler(), context.getClass()]) ?? ['admin'];
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const response = context.switchToHttp().getResponse<FastifyReply>();
    const credentials = parseBasic(request.headers.authorization);
    if (!credentials) {
      response.header('WWW-Authenticate', 'Basic realm="authz", charset="UTF-8"');
      throw unauthorized('HTTP Basic credentials are required');
    }
    const account = `account:${credentials.user}`;
    this.throttle.check(account, request.ip);
    const principal = await this.verify(credentials.user, credentials.password);
    if (principal) this.throttle.succeed(account);
    else this.throttle.fail(account, request.ip);
    if (!principal) {
      response.header('WWW-Authenticate', 'Basic realm="authz", charset="UTF-8"');
      throw unauthorized('unknown user or wrong password');
    }
    if (!principal.roles.some((role) => role === 'admin' || roles.includes(role))) {
      throw new ForbiddenException({ error: 'access_denied', error_description: `this needs the role: ${roles.join(' or ')}` });
    }
    request.principal = principal;
    return true;
  }

  private verify(user: string, password: string): Promise<Principal | null> {
    return this.verified.verify(user, password, () =>
      this.queryBus.execute<VerifyCredentialsQuery, Principal | null>(new VerifyCredentialsQuery(user, password)),
    );
  }
}
