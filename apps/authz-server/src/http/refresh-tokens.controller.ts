import { Body, Controller, Get, HttpCode, HttpStatus, Post, Query, Req, UseGuards } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ListAuditQuery, ListRefreshTokensQuery, RevokeUserTokensCommand, single } from '@authz/application';
import { ValidationError } from '@authz/domain';
import { RolesGuard, type AuthenticatedRequest } from './admin.guard';
import { requestContext } from './request-context';

/** `refreshtokendetails` (seed S11) and admin revocation by user, or user and client (seed S12). */
@Controller('admin/refresh-tokens')
@UseGuards(RolesGuard)
export class RefreshTokensController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  /** From the projection: a token issued a moment ago on another node may take a moment to show. */
  @Get()
  list(@Query() query: Record<string, unknown>) {
    return this.queryBus.execute(new ListRefreshTokensQuery(query));
  }

  @Post('revoke')
  @HttpCode(HttpStatus.OK)
  revoke(@Body() body: unknown, @Req() req: AuthenticatedRequest) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ValidationError('BODY_NOT_AN_OBJECT', 'the body must be a JSON object: {"userId": "…", "clientId"?: "…"}');
    }
    const { userId, clientId, ...rest } = body as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) throw new ValidationError('UNKNOWN_FIELDS', `unknown fields: ${unknown.slice(0, 5).join(', ')}`.slice(0, 200));
    return this.commandBus.execute(new RevokeUserTokensCommand(userId, clientId, requestContext(req)));
  }
}

/** The seed's own call: `POST /ssosp/token/revoke?user_id=xyz&client_id=abc`, with admin credentials. */
@Controller('ssosp/token')
@UseGuards(RolesGuard)
export class SsospRevokeController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post('revoke')
  @HttpCode(HttpStatus.OK)
  revoke(@Query() query: Record<string, unknown>, @Req() req: AuthenticatedRequest) {
    const userId = single(query.user_id, 'user_id');
    if (userId === undefined) throw new ValidationError('USER_ID_REQUIRED', 'user_id is required');
    return this.commandBus.execute(new RevokeUserTokensCommand(userId, single(query.client_id, 'client_id'), requestContext(req)));
  }
}

/** The audit history: every event, newest first. */
@Controller('admin/audit')
@UseGuards(RolesGuard)
export class AuditController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get()
  list(@Query() query: Record<string, unknown>) {
    return this.queryBus.execute(new ListAuditQuery(query));
  }
}
