import 'reflect-metadata';
import { CommandBus } from '@nestjs/cqrs';
import { InitializeClusterCommand } from '@authz/application';
import { ConfigError, Runtime, createHttpApp, createLogger, loadConfig } from '@authz/runtime';
import { AuthzServerModule } from './app.module';
import { bootstrapAdmin } from './bootstrap-admin';
import { TOKEN_ENDPOINT_BODY_LIMITS } from './http/oauth.controller';

// Every line this process prints is a log line of the README's contract: one JSON object per
// line on stdout, the start-up banner and a failure to start included.
const { nest, log } = createLogger('authz-server');

async function main(): Promise<void> {
  const config = loadConfig();
  const runtime = await Runtime.create(config, { relay: true, projections: config.runProjections, keys: true, log });
  const app = await createHttpApp(AuthzServerModule.with(runtime, log), runtime.metrics, log, nest, { bodyLimits: TOKEN_ENDPOINT_BODY_LIMITS });
  await app.init();
  const commandBus = app.get(CommandBus);
  const cluster = await commandBus.execute(new InitializeClusterCommand({ actor: `system:${config.nodeId}`, correlationId: 'bootstrap' }));
  if (cluster.created) log('info', `initialized cluster ${cluster.clusterId} with new signing and encryption keys`);
  const admin = await bootstrapAdmin(runtime, commandBus, log);
  await runtime.start();
  await app.listen(config.port, config.host);
  const url = await app.getUrl();

  // The banner: what a person starting the server reads first (`jq -r .message` shows it as
  // text), and the same facts as fields for a log shipper.
  log('info', `authz-server ${config.nodeId} listening on ${url} (${config.mode} mode${config.mode === 'embedded' ? `, data in ${config.dataDir}` : ''})`, {
    url,
    nodeId: config.nodeId,
    mode: config.mode,
    dataDir: config.mode === 'embedded' ? config.dataDir : undefined,
    clusterId: cluster.clusterId,
    kekSource: runtime.kek!.source,
    adminUser: admin?.user ?? null,
    adminPasswordFile: admin?.passwordFile,
  });
  const hints = [
    `  cluster:     ${cluster.clusterId}; key-encryption key from ${runtime.kek!.source}`,
    `  health:      curl ${url}/health   (metrics: ${url}/metrics)`,
    admin?.passwordFile
      ? `  admin:       user "${admin.user}", password in ${admin.passwordFile}`
      : admin
        ? `  admin:       user "${admin.user}"`
        : '  admin:       none (set AUTHZ_ADMIN_USER and AUTHZ_ADMIN_PASSWORD)',
    admin?.passwordFile
      ? `  parameters:  curl -u ${admin.user}:$(cat ${admin.passwordFile}) ${url}/admin/parameters`
      : `  parameters:  curl -u <admin>:<password> ${url}/admin/parameters`,
    `  first token: AUTHZ_URL=${url} npx authz clients add --name demo --type confidential --id demo   (prints its secret)`,
    `               curl -u demo:<secret> -d grant_type=client_credentials ${url}/oauth/token`,
  ];
  for (const hint of hints) log('info', hint);
}

main().catch((error) => {
  // A bad configuration exits 2, anything else 1; the logger flushes its lines on exit.
  if (error instanceof ConfigError) {
    nest.fatal(`authz-server: ${error.message}`);
    process.exit(2);
  }
  nest.fatal(`authz-server failed to start: ${(error as Error).message}`);
  process.exit(1);
});
