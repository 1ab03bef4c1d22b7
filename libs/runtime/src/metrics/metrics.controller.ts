import { createHash, timingSafeEqual } from 'node:crypto';
import { Controller, Get, Req, Res, UnauthorizedException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Runtime } from '../runtime';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Prometheus scrapes: open by default (keep the port off the public network), or behind a
 * bearer token when AUTHZ_METRICS_TOKEN is set.
 */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly runtime: Runtime) {}

  @Get()
  async scrape(@Req() req: FastifyRequest, @Res({ passthrough: true }) res: FastifyReply): Promise<string> {
    const token = this.runtime.config.metricsToken;
    if (token) {
      const given = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
      // Compared as digests: equal lengths, and no timing hint about the token.
      if (!timingSafeEqual(digest(given), digest(token))) {
        res.header('WWW-Authenticate', 'Bearer realm="metrics"');
        throw new UnauthorizedException({ error: 'invalid_token', error_description: 'the metrics need a bearer token' });
      }
    }
    res.header('Content-Type', this.runtime.metrics.contentType);
    return this.runtime.metrics.text();
  }
}
