import { Body, Controller, Get, Headers, Put, Query, Req, UnsupportedMediaTypeException, UseGuards } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ChangeParametersCommand, GetParameterHistoryQuery, GetParametersQuery } from '@authz/application';
import { ValidationError } from '@authz/domain';
import { RolesGuard, type AuthenticatedRequest } from './admin.guard';
import { requestContext } from './request-context';

/** Enterprise parameters (seed S9): writes go through the aggregate, reads through the projection. */
@Controller('admin/parameters')
@UseGuards(RolesGuard)
export class ParametersController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @Get()
  async get() {
    const view = await this.queryBus.execute(new GetParametersQuery());
    return { ...view.values, updatedAt: view.updatedAt, updatedBy: view.updatedBy, position: view.position };
  }

  @Put()
  async put(@Body() body: unknown, @Headers('content-type') contentType: string | undefined, @Req() req: AuthenticatedRequest) {
    if (!/^application\/json\b/i.test(contentType ?? '')) {
      throw new UnsupportedMediaTypeException({ error: 'invalid_request', error_description: 'send the parameters as application/json' });
    }
    const result = await this.commandBus.execute(new ChangeParametersCommand(body, requestContext(req)));
    return { ...result.values, position: result.position };
  }

  @Get('history')
  history(@Query('limit') limit?: string) {
    const n = limit === undefined ? 50 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 500) {
      throw new ValidationError('INVALID_LIMIT', 'limit must be a whole number from 1 to 500');
    }
    return this.queryBus.execute(new GetParameterHistoryQuery(n));
  }
}
