import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ConfigError, Runtime, createHttpApp, createLogger, loadConfig } from '@authz/runtime';
import { ProjectorModule } from './app.module';

const USAGE = `usage: projector [--rebuild <projection>|all]

Consumes the event topics and keeps the read models up to date (cluster mode).
  --rebuild NAME   rebuild one read model (or all) from position 0 of the event store, in one
                   transaction (readers see the old model until it commits), then exit`;

// Every line this process prints is a log line of the README's contract (one JSON object per
// line on stdout), but the --help text it is asked for.
const { nest, log } = createLogger('projector');

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rebuild: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const config = loadConfig(process.env, 8081);
  const runtime = await Runtime.create(config, { relay: false, projections: true, keys: false, log });
  const runner = runtime.runner!;

  if (values.rebuild) {
    // The same replay as POST /admin/replay (from position 0 of the store), run in the foreground.
    const replayer = runtime.replays.replayer;
    if (!replayer.names().includes(values.rebuild)) {
      log('error', `projector: no projection "${values.rebuild}" (known: ${replayer.names().join(', ')})`);
      await runtime.close();
      process.exit(2);
    }
    const context = { actor: `system:${config.nodeId}`, correlationId: `rebuild-${randomUUID()}` };
    const outcome = await replayer.run({ projection: values.rebuild, from: 0, source: 'store' }, context);
    for (const [name, applied] of Object.entries(outcome.applied)) {
      log('info', `rebuilt ${name}: ${applied} events in ${outcome.durationMs} ms`, { projection: name, events: applied, durationMs: outcome.durationMs, correlationId: context.correlationId });
    }
    await runtime.close();
    return;
  }

  const app = await createHttpApp(ProjectorModule.with(runtime, log), runtime.metrics, log, nest);
  await runtime.start();
  await app.listen(config.port, config.host);
  const url = await app.getUrl();
  const projections = runner.projections.map((p) => p.name).join(', ');
  log('info', `projector ${config.nodeId} running ${projections}; health on ${url}/health, metrics on /metrics`, { url, nodeId: config.nodeId, projections });
}

main().catch((error) => {
  // A bad configuration exits 2, anything else 1; the logger flushes its lines on exit.
  if (error instanceof ConfigError) {
    nest.fatal(`projector: ${error.message}`);
    process.exit(2);
  }
  nest.fatal(`projector failed: ${(error as Error).message}`);
  process.exit(1);
});
