import { Body, Controller, HttpCode, HttpStatus, Post, Req, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { RegisterUserCommand } from '@authz/application';
import { ValidationError } from '@authz/domain';
import { RolesGuard, type AuthenticatedRequest } from './admin.guard';
import { requestContext } from './request-context';

@Controller('admin/users')
@UseGuards(RolesGuard)
export class UsersController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post()
  @HttpCode(HttpStatus.CREATED)
  create(@Body() body: unknown, @Req() req: AuthenticatedRequest) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ValidationError('USER_NOT_AN_OBJECT', 'the body must be a JSON object with userId, password and, for an account that is more than an end user, roles');
    }
    const { userId, password, roles } = body as Record<string, unknown>;
    return this.commandBus.execute(new RegisterUserCommand(userId, password, roles, requestContext(req)));
  }
}
