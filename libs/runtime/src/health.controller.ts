import { Controller, Get, HttpCode, HttpStatus, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Runtime } from './runtime';

/** Liveness (the process answers) and readiness (its database and, in cluster mode, Kafka answer). */
@Controller('health')
export class HealthController {
  constructor(private readonly runtime: Runtime) {}

  @Get('live')
  @HttpCode(HttpStatus.OK)
  live() {
    return { status: 'up', nodeId: this.runtime.config.nodeId };
  }

  @Get(['', 'ready'])
  async ready(@Res({ passthrough: true }) response: Response) {
    const { database, transport } = await this.runtime.health();
    const ready = database && transport;
    response.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return {
      status: ready ? 'up' : 'down',
      nodeId: this.runtime.config.nodeId,
      mode: this.runtime.config.mode,
      checks: {
        database: database ? 'up' : 'down',
        [this.runtime.config.mode === 'cluster' ? 'kafka' : 'transport']: transport ? 'up' : 'down',
        relay: this.runtime.relay ? (this.runtime.relay.isLeader || this.runtime.db.embedded ? 'active' : 'standby') : 'off',
      },
    };
  }
}
