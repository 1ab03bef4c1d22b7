import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { NestFactory } from '@nestjs/core';
import { ConfigError, Runtime, createLogger, loadConfig, observeRequests } from '@authz/runtime';
import { ProjectorModule } from './app.module';

const USAGE = `usage: projector [--rebuild <projection>|all]

Consumes the event topics and keeps the read models up to date (cluster mode).
  --rebuild NAME   rebuild one read model (or all) from position 0 of the event store, then exit`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rebuild: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const { nest, log } = createLogger('projector');
  const config = loadConfig(process.env, 8081);
  const runtime = await Runtime.create(config, { relay: false, projections: true, keys: false, log });
  const runner = runtime.runner!;

  if (values.rebuild) {
    const chosen = runner.projections.filter((p) => values.rebuild === 'all' || p.name === values.rebuild);
    if (chosen.length === 0) {
      console.error(`projector: no projection "${values.rebuild}" (known: ${runner.projections.map((p) => p.name).join(', ')})`);
      await runtime.close();
      process.exit(2);
    }
    for (const projection of chosen) {
      const started = Date.now();
      const applied = await runner.rebuild(projection);
      console.log(`rebuilt ${projection.name}: ${applied} events in ${Date.now() - started} ms`);
    }
    await runtime.close();
    return;
  }

  const app = await NestFactory.create(ProjectorModule.with(runtime, log), { logger: nest });
  app.use(observeRequests(runtime.metrics, log));
  app.enableShutdownHooks();
  await runtime.start();
  await app.listen(config.port, config.host);
  process.stdout.write(`projector ${config.nodeId} running ${runner.projections.map((p) => p.name).join(', ')}; health on ${await app.getUrl()}/health, metrics on /metrics\n`);
}

main().catch((error) => {
  if (error instanceof ConfigError) {
    console.error(`projector: ${error.message}`);
    process.exit(2);
  }
  console.error(`projector failed: ${(error as Error).message}`);
  process.exit(1);
});
