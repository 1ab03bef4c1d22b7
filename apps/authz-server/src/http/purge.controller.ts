import { Body, ConflictException, Controller, HttpCode, HttpStatus, Post, Req, UnsupportedMediaTypeException, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { PurgeExpiredTokensCommand, PurgeRunningError } from '@authz/application';
import { ValidationError } from '@authz/domain';
import { RolesGuard, type AuthenticatedRequest } from './admin.guard';
import { requestContext } from './request-context';

/**
 * Seed S14 on demand: purges expired refresh tokens now, as the daily run would, and answers
 * when it has finished. 409 when another node (or this one) is purging.
 */
@Controller('admin/purge')
@UseGuards(RolesGuard)
export class PurgeController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post()
  @HttpCode(HttpStatus.OK)
  async purge(@Body() body: unknown, @Req() req: AuthenticatedRequest) {
    // No body, or a JSON object with nothing but maxRows.
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      throw new UnsupportedMediaTypeException({ error: 'invalid_request', error_description: 'send the options as application/json, or no body' });
    }
    if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
      throw new ValidationError('PURGE_NOT_AN_OBJECT', 'the body must be empty or a JSON object such as {"maxRows": 100000}');
    }
    const { maxRows, ...others } = (body ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(others);
    if (unknown.length > 0) throw new ValidationError('PURGE_UNKNOWN_FIELD', `unknown field ${JSON.stringify(unknown[0].slice(0, 64))}: only maxRows is accepted`);
    try {
      const summary = await this.commandBus.execute(new PurgeExpiredTokensCommand(maxRows, requestContext(req)));
      return {
        count: summary.count,
        batches: summary.batches,
        cutoff: summary.cutoff,
        through: summary.through,
        capped: summary.capped,
        durationMs: summary.durationMs,
        largestBatch: summary.largestBatch,
        startedAt: summary.startedAt,
        position: summary.position,
      };
    } catch (error) {
      if (error instanceof PurgeRunningError) throw new ConflictException({ error: 'purge_running', error_description: error.message });
      throw error;
    }
  }
}
