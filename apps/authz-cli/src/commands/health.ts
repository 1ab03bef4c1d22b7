import type { CommandGroup } from '../context';
import { CliError, EXIT } from '../errors';
import { printJson, table } from '../output';

interface Health {
  status: string;
  nodeId?: string;
  mode?: string;
  checks?: Record<string, string>;
}

/** `authz health`: the node's readiness (GET /health), no credentials needed. */
export const health: CommandGroup = (program, ctx) => {
  program
    .command('health')
    .description('show whether the server is ready: its database, Kafka or transport, and the outbox relay')
    .option('--json', 'print the raw JSON answer')
    .addHelpText('after', '\nExit status 0 when the server is up, 1 when it answers but is not ready.')
    .action(async (options: { json?: boolean }, command) => {
      const api = ctx.api(command);
      const { status, body } = await api.get<Health>('health', { auth: false, accept: [503] });
      if (options.json) {
        printJson(ctx.io, body);
      } else {
        const where = [body.nodeId && `node ${body.nodeId}`, body.mode && `${body.mode} mode`].filter(Boolean).join(', ');
        ctx.io.stdout(`${body.status ?? 'unknown'}${where ? ` (${where})` : ''} at ${api.url}\n`);
        const checks = Object.entries(body.checks ?? {});
        if (checks.length > 0) ctx.io.stdout(table(checks.map(([name, state]) => [`  ${name}`, state])));
      }
      if (status !== 200 || body.status !== 'up') throw new CliError(`the server is not ready (HTTP ${status})`, EXIT.refused);
    });
};
