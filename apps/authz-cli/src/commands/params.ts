import { Command, InvalidArgumentError } from 'commander';
import type { CommandGroup } from '../context';
import { usageError } from '../errors';
import { formatValue, printJson, table } from '../output';

/** The enterprise parameters (seed S9) as the API names them, with their names in the UCM admin pages. */
export const PARAMETERS = [
  { key: 'oauthWithRefreshLoginFlow', alias: 'refresh-login-flow', label: 'OAuth with Refresh Login Flow', kind: 'switch' },
  { key: 'accessTokenExpiryMinutes', alias: 'access-token-expiry', label: 'OAuth Access Token Expiry Timer (minutes)', kind: 'number' },
  { key: 'refreshTokenExpiryDays', alias: 'refresh-token-expiry', label: 'OAuth Refresh Token Expiry Timer (days)', kind: 'number' },
  { key: 'refreshTokenRotation', alias: 'refresh-token-rotation', label: 'Refresh Token Rotation (single use)', kind: 'switch' },
] as const;

type Parameter = (typeof PARAMETERS)[number];

/** Fields of GET /admin/parameters that are not parameters. */
const META = new Set(['updatedAt', 'updatedBy', 'position']);

interface ParametersView {
  [name: string]: unknown;
  updatedAt?: string | null;
  updatedBy?: string | null;
  position?: number;
}

interface ParameterChange {
  position: number;
  occurredAt: string;
  actor: string;
  nodeId: string;
  changes: Record<string, unknown>;
  previous: Record<string, unknown>;
}

function find(name: string): Parameter | undefined {
  const lower = name.toLowerCase();
  return PARAMETERS.find((p) => p.key.toLowerCase() === lower || p.alias === lower);
}

const label = (key: string) => find(key)?.label ?? key;

/** Catalogue order, names the CLI does not know last (the server's JSON has its own order). */
const order = (key: string) => {
  const i = PARAMETERS.findIndex((p) => p.key === key);
  return i < 0 ? PARAMETERS.length : i;
};

function coerce(parameter: Parameter | undefined, value: string): unknown {
  const numeric = /^[+-]?\d+(\.\d+)?$/.test(value);
  if (parameter?.kind === 'switch') {
    const canonical = ['Enabled', 'Disabled'].find((v) => v.toLowerCase() === value.toLowerCase());
    return canonical ?? value;
  }
  // The server decides what is valid (range, whole number): the CLI only sends numbers as numbers.
  return numeric ? Number(value) : value;
}

/**
 * Turns `name=value …` into the PUT body. Names are the API's or the short aliases; a name
 * the CLI does not know is sent as it is, so that the server (which may be newer) decides.
 */
export function parseAssignments(assignments: readonly string[]): Record<string, unknown> {
  if (assignments.length === 0) throw usageError('name no parameter to set, as name=value');
  const body: Record<string, unknown> = {};
  for (const assignment of assignments) {
    const match = /^([A-Za-z][A-Za-z0-9_-]*)=(.*)$/s.exec(assignment);
    if (!match) throw usageError(`"${assignment}" is not name=value`);
    const [, name, value] = match;
    if (value.trim() === '') throw usageError(`no value for ${name}`);
    const parameter = find(name);
    const key = parameter?.key ?? name;
    if (key in body) throw usageError(`${key} is set twice`);
    body[key] = coerce(parameter, value.trim());
  }
  return body;
}

function valuesTable(view: ParametersView): string {
  const known = PARAMETERS.filter((p) => p.key in view).map((p) => [p.label, formatValue(view[p.key]), p.alias]);
  const others = Object.keys(view)
    .filter((k) => !META.has(k) && !find(k))
    .map((k) => [k, formatValue(view[k]), k]);
  return table([...known, ...others], ['Parameter', 'Value', 'Set with']);
}

function parseLimit(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('a whole number is expected.');
  return Number(value);
}

const NAMES_HELP = `
Parameters (name or alias=value):
${PARAMETERS.map((p) => `  ${p.alias.padEnd(22)} ${p.key.padEnd(27)} ${p.label}`).join('\n')}

Examples:
  authz params set access-token-expiry=30 refresh-login-flow=Enabled
  authz params set refreshTokenExpiryDays=14`;

/** `authz params get|set|history`: the enterprise parameters (/admin/parameters). */
export const params: CommandGroup = (program, ctx) => {
  const group = program.command('params').description('show and change the enterprise parameters (token expiry, refresh login flow)');
  group.addHelpText('after', NAMES_HELP);

  group
    .command('get')
    .description('show the current parameters and their last update')
    .option('--json', 'print the raw JSON answer')
    .action(async (options: { json?: boolean }, command: Command) => {
      const { body } = await ctx.api(command).get<ParametersView>('admin/parameters');
      if (options.json) return printJson(ctx.io, body);
      ctx.io.stdout(valuesTable(body));
      ctx.io.stdout(
        body.updatedAt
          ? `\nLast updated ${body.updatedAt} by ${body.updatedBy ?? 'unknown'} (event position ${body.position ?? '-'})\n`
          : '\nNever changed: these are the defaults.\n',
      );
    });

  group
    .command('set')
    .description('change one or more parameters; all or nothing: any bad value changes none')
    .argument('<name=value...>', 'parameters to change, e.g. access-token-expiry=30')
    .option('--json', 'print the raw JSON answer')
    .addHelpText('after', NAMES_HELP)
    .action(async (assignments: string[], options: { json?: boolean }, command: Command) => {
      const changes = parseAssignments(assignments);
      const { body } = await ctx.api(command).put<ParametersView>('admin/parameters', changes);
      if (options.json) return printJson(ctx.io, body);
      ctx.io.stdout(valuesTable(body));
      ctx.io.stdout(`\nSaved (event position ${body.position ?? '-'}).\n`);
    });

  group
    .command('history')
    .description('list the changes, newest first: when, who, on which node, old and new values')
    .option('--limit <n>', 'how many changes to show (1-500)', parseLimit, 50)
    .option('--json', 'print the raw JSON answer')
    .action(async (options: { limit: number; json?: boolean }, command: Command) => {
      const { body } = await ctx.api(command).get<ParameterChange[]>('admin/parameters/history', { query: { limit: options.limit } });
      if (options.json) return printJson(ctx.io, body);
      if (body.length === 0) return ctx.io.stdout('No changes yet: the parameters have their defaults.\n');
      const rows = body.flatMap((change) =>
        Object.entries(change.changes)
          .sort(([a], [b]) => order(a) - order(b))
          .map(([key, value], i) => [
            i === 0 ? change.occurredAt : '',
            i === 0 ? change.actor : '',
            i === 0 ? change.nodeId : '',
            label(key),
            `${formatValue(change.previous?.[key])} -> ${formatValue(value)}`,
          ]),
      );
      ctx.io.stdout(table(rows, ['When', 'By', 'Node', 'Parameter', 'Change']));
    });
};
