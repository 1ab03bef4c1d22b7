import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { HealthController, HttpErrorFilter, MetricsController, type Log, type Runtime } from '@authz/runtime';

@Module({})
export class ProjectorModule {
  static with(runtime: Runtime, log: Log): DynamicModule {
    return {
      module: ProjectorModule,
      controllers: [HealthController, MetricsController],
      providers: [...runtime.providers(), { provide: APP_FILTER, useValue: new HttpErrorFilter(log) }],
    };
  }
}
