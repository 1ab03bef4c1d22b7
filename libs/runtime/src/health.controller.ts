import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Runtime } from './runtime';
import { lagVerdict } from './readiness';

/**
 * Liveness (the process answers) and readiness: its database and, in cluster mode, Kafka
 * answer, and on a node that runs the projections, none is more than
 * AUTHZ_READY_MAX_LAG_SECONDS behind the event store.
 */
@Controller('health')
export class HealthController {
  constructor(private readonly runtime: Runtime) {}

  /** Down when the embedded database session is wedged: only a restart frees it. */
  @Get('live')
  live(@Res({ passthrough: true }) response: FastifyReply) {
    const stalled = this.runtime.db.stalled();
    response.code(stalled ? HttpStatus.SERVICE_UNAVAILABLE : HttpStatus.OK);
    return { status: stalled ? 'down' : 'up', nodeId: this.runtime.config.nodeId, ...(stalled ? { reasons: [stalled] } : {}) };
  }

  @Get(['', 'ready'])
  async ready(@Res({ passthrough: true }) response: FastifyReply) {
    const { config, relay, runner, db } = this.runtime;
    const { database, transport } = await this.runtime.health();
    const transportName = config.mode === 'cluster' ? 'kafka' : 'transport';
    const reasons = [...(database ? [] : ['the database does not answer']), ...(transport ? [] : [`${transportName} does not answer`])];
    let projections = 'off';
    if (runner) {
      projections = 'unknown';
      if (database) {
        const verdict = await this.runtime.projectionLag().then(
          (lags) => lagVerdict(lags, config.readyMaxLagSeconds),
          () => ({ ready: false as const, reason: 'the projection lag could not be read' }),
        );
        projections = verdict.ready ? 'up' : 'lagging';
        if (!verdict.ready) reasons.push(verdict.reason);
      }
    }
    const ready = reasons.length === 0;
    response.code(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return {
      status: ready ? 'up' : 'down',
      nodeId: config.nodeId,
      mode: config.mode,
      checks: {
        database: database ? 'up' : 'down',
        [transportName]: transport ? 'up' : 'down',
        relay: relay ? (relay.isLeader || db.embedded ? 'active' : 'standby') : 'off',
        projections,
      },
      ...(ready ? {} : { reasons }),
    };
  }
}
