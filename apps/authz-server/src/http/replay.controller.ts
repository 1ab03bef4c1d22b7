import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  NotFoundException,
  Param,
  Post,
  Req,
  UnsupportedMediaTypeException,
  UseGuards,
} from '@nestjs/common';
import { Runtime } from '@authz/runtime';
import { RolesGuard, type AuthenticatedRequest } from './admin.guard';
import { requestContext } from './request-context';

/**
 * Replays of read models and key caches (`authz replay`): started as a job on this node,
 * followed with GET until done. Jobs live in this node's memory only.
 */
@Controller('admin/replay')
@UseGuards(RolesGuard)
export class ReplayController {
  constructor(private readonly runtime: Runtime) {}

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  async start(@Body() body: unknown, @Headers('content-type') contentType: string | undefined, @Req() req: AuthenticatedRequest) {
    if (!/^application\/json\b/i.test(contentType ?? '')) {
      throw new UnsupportedMediaTypeException({ error: 'invalid_request', error_description: 'send the replay request as application/json' });
    }
    const jobs = this.runtime.replays;
    return jobs.start(await jobs.replayer.parse(body), requestContext(req));
  }

  @Get(':id')
  get(@Param('id') id: string) {
    const job = this.runtime.replays.get(id);
    if (!job) throw new NotFoundException({ error: 'not_found', error_description: 'no such replay job on this node (jobs are kept by the node that runs them, until it restarts)' });
    return job;
  }
}
