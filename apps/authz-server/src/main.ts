import 'reflect-metadata';
import { CommandBus } from '@nestjs/cqrs';
import { InitializeClusterCommand } from '@authz/application';
import { ConfigError, Runtime, createHttpApp, createLogger, loadConfig } from '@authz/runtime';
import { AuthzServerModule } from './app.module';
import { bootstrapAdmin } from './bootstrap-admin';
import { TOKEN_ENDPOINT_BODY_LIMITS } from './http/oauth.controller';

async function main(): Promise<void> {
  const { nest, log } = createLogger('authz-server');
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`authz-server: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
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

  const banner = [
    `authz-server ${config.nodeId} listening on ${url} (${config.mode} mode${config.mode === 'embedded' ? `, data in ${config.dataDir}` : ''})`,
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
  process.stdout.write(banner.join('\n') + '\n');
}

main().catch((error) => {
  if (error instanceof ConfigError) {
    console.error(`authz-server: ${error.message}`);
    process.exit(2);
  }
  console.error(`authz-server failed to start: ${(error as Error).message}`);
  process.exit(1);
});
