import { Command } from 'commander';
import type { CommandGroup } from '../context';
import { printJson, table } from '../output';

/** A registered client as POST /admin/clients answers it; clientSecret only for a confidential one, only then. */
export interface RegisteredClient {
  clientId: string;
  clientName: string;
  type: string;
  redirectUris: string[];
  grantTypes: string[];
  scope: string;
  clientSecret?: string;
}

const CLIENTS_ADD_HELP = `
Types:
  confidential  a server-side client with a secret (default grant: client_credentials)
  public        an app that cannot keep a secret (default grant: authorization_code,
                which needs --redirect-uri)

Grants: authorization_code, implicit, refresh_token, client_credentials (the server checks).

A confidential client's secret is printed once: the server keeps only its hash.

Examples:
  authz clients add --name Voicemail --type confidential --id voicemail --scope "vm.read vm.write"
  authz clients add --name Jabber --type public --redirect-uri https://jabber.example/cb --grant authorization_code --grant refresh_token`;

const SECRET_WARNING = 'Store the client secret now: it is not shown again (the server keeps only its hash).';

function repeated(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function commaSeparated(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((g) => g.trim()).filter(Boolean)];
}

export function describeClient(client: RegisteredClient): string {
  const rows = [
    ['  Client id:', client.clientId],
    ['  Name:', client.clientName],
    ['  Type:', client.type],
    ['  Grant types:', client.grantTypes.join(', ') || '-'],
    ['  Redirect URIs:', client.redirectUris.join(' ') || '-'],
    ['  Scope:', client.scope || '-'],
  ];
  if (client.clientSecret) rows.push(['  Client secret:', client.clientSecret]);
  return table(rows);
}

interface ClientPage {
  clients: (RegisteredClient & { createdAt: string; createdBy: string })[];
  nextCursor: string | null;
}

/** `authz clients add|list`: OAuth clients (/admin/clients). */
export const clients: CommandGroup = (program, ctx) => {
  const group = program.command('clients').description('manage OAuth clients');

  group
    .command('add')
    .description('register an OAuth client; a confidential one gets a secret, shown once')
    .requiredOption('--name <name>', 'its display name')
    .requiredOption('--type <type>', 'public or confidential')
    .option('--id <clientId>', 'its client_id: letters, digits and . _ ~ - (default: a generated UUID)')
    .option('--redirect-uri <uri>', 'a redirect URI (repeat for several)', repeated)
    .option('--grant <grant>', 'a grant type it may use (repeat, or separate with commas; default: by type)', commaSeparated)
    .option('--scope <scopes>', 'the scopes it may ask for, space-separated, e.g. "vm.read vm.write"')
    .option('--json', 'print the raw JSON answer (with the secret)')
    .addHelpText('after', CLIENTS_ADD_HELP)
    .action(
      async (
        options: { name: string; type: string; id?: string; redirectUri?: string[]; grant?: string[]; scope?: string; json?: boolean },
        command: Command,
      ) => {
        // The server checks everything (the type too): its messages name the API's fields.
        const request = {
          clientId: options.id,
          clientName: options.name,
          type: options.type,
          redirectUris: options.redirectUri,
          grantTypes: options.grant,
          scope: options.scope,
        };
        const { body } = await ctx.api(command).post<RegisteredClient>('admin/clients', request);
        if (options.json) {
          printJson(ctx.io, body);
          if (body.clientSecret) ctx.io.stderr(`${SECRET_WARNING}\n`);
          return;
        }
        ctx.io.stdout(`Created ${body.type} client "${body.clientId}".\n${describeClient(body)}`);
        if (body.clientSecret) ctx.io.stdout(`\n${SECRET_WARNING}\n`);
      },
    );

  group
    .command('list')
    .description('list the registered OAuth clients (every page, in client id order)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const all: ClientPage['clients'] = [];
      let cursor: string | null = '';
      while (cursor !== null) {
        const query: string = cursor ? `?cursor=${encodeURIComponent(cursor)}&limit=500` : '?limit=500';
        const page: ClientPage = (await ctx.api(command).get<ClientPage>(`admin/clients${query}`)).body;
        all.push(...page.clients);
        cursor = page.nextCursor;
      }
      if (options.json) return printJson(ctx.io, all);
      if (all.length === 0) return ctx.io.stdout('No clients.\n');
      ctx.io.stdout(
        table(
          all.map((c) => [c.clientId, c.type, c.grantTypes.join(','), c.scope || '-', c.clientName]),
          ['Client id', 'Type', 'Grants', 'Scope', 'Name'],
        ),
      );
    });
};
