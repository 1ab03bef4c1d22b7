import { Command, InvalidArgumentError, Option } from 'commander';
import type { CommandGroup } from '../context';
import { CliError, EXIT } from '../errors';
import type { Io } from '../io';
import { printJson, table } from '../output';

/** A replay job as POST /admin/replay and GET /admin/replay/:id answer it. */
export interface ReplayJob {
  id: string;
  projection: string;
  targets: string[];
  from: number;
  source: 'store' | 'kafka';
  state: 'running' | 'done' | 'failed';
  processed: number;
  total: number;
  applied?: Record<string, number>;
  rate: number;
  startedAt: string;
  finishedAt: string | null;
  error?: string;
}

const POLL_MS = 500;
/** Without a terminal, one progress line this often. */
const PLAIN_EVERY_MS = 5_000;
const BAR_WIDTH = 30;

const REPLAY_HELP = `
What it replays (the server lists the names when one is wrong):
  <projection>  one read model, e.g. parameters, clients
  all           every read model, and the key caches (as keys)
  keys          that node's key cache; every other node reloads its own when it sees the
                replay's event (ProjectionReplayed "keys")

--from 0 (the default) empties the read models and applies every event from the first, in
one transaction: readers keep the old models until the new ones are complete, and token
requests go on meanwhile. --from N keeps the models and applies the events after position N
that they have not applied yet: a repair after lost deliveries. Each stream's events apply in
order, once: an event older than one its read model already has from the same stream is not
re-applied (for that, replay from 0). The key caches always reload the whole key ring.

--source kafka reads the topics (up to their ends when the replay starts) rather than the
event store: cluster mode only.

The replay runs on the server, as a job: interrupting this command does not stop it.
Progress goes to stderr (a bar on a terminal); the result to stdout.

Examples:
  authz replay all
  authz replay clients --from 1200
  authz --url http://node-b:8080 replay keys`;

function position(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('an event position (a whole number, 0 or more) is expected.');
  return n;
}

const count = (n: number) => n.toLocaleString('en-US');

function seconds(job: ReplayJob): number {
  return ((job.finishedAt ? Date.parse(job.finishedAt) : Date.now()) - Date.parse(job.startedAt)) / 1000;
}

/** "[#######-------]  45%  450,000/1,000,000 events  12,345 events/s" */
export function progressLine(job: ReplayJob): string {
  const share = job.total > 0 ? Math.min(1, job.processed / job.total) : 0;
  const filled = Math.round(share * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
  return `replay ${job.projection} ${bar} ${String(Math.floor(share * 100)).padStart(3)}%  ${count(job.processed)}/${count(job.total)} events  ${count(job.rate)} events/s`;
}

/** Redraws one line on a terminal; elsewhere (a log, CI) prints a line now and then. */
class Progress {
  private lastPlain = Date.now();
  private drawn = false;

  constructor(private readonly io: Io) {}

  show(job: ReplayJob): void {
    if (this.io.stderrIsTTY) {
      this.io.stderr(`\r${progressLine(job)}\x1b[K`);
      this.drawn = true;
    } else if (Date.now() - this.lastPlain >= PLAIN_EVERY_MS) {
      this.lastPlain = Date.now();
      this.io.stderr(`${progressLine(job)}\n`);
    }
  }

  end(): void {
    if (this.drawn) this.io.stderr('\r\x1b[K');
  }
}

export function summary(job: ReplayJob): string {
  const took = seconds(job);
  const head =
    `Replayed ${job.projection} from position ${job.from} (${job.source === 'kafka' ? 'Kafka topics' : 'event store'}): ` +
    `${count(job.processed)} events read in ${took.toFixed(1)} s, ${count(job.rate)} events/s.\n`;
  const rows = Object.entries(job.applied ?? {}).map(([name, n]) => [`  ${name}`, name === 'keys' ? `${count(n)} key ring events reloaded` : `${count(n)} events applied`]);
  return head + (rows.length > 0 ? table(rows) : '');
}

/** `authz replay <projection>|all|keys`: POST /admin/replay, then GET /admin/replay/:id until it ends. */
export const replay: CommandGroup = (program, ctx) => {
  program
    .command('replay')
    .description('rebuild read models (or all, with the key cache) from the events, while the server serves')
    .argument('<projection>', 'a read model, all, or keys')
    .addOption(new Option('--from <position>', 'keep the models and apply what they miss after this event position (0: rebuild from the first event)').argParser(position).default(0))
    .addOption(new Option('--source <source>', 'where the events come from').choices(['store', 'kafka']).default('store'))
    .option('--json', 'print the finished job as JSON')
    .addHelpText('after', REPLAY_HELP)
    .action(async (projection: string, options: { from: number; source: string; json?: boolean }, command: Command) => {
      const api = ctx.api(command);
      let job = (await api.post<ReplayJob>('admin/replay', { projection, from: options.from, source: options.source })).body;
      const progress = new Progress(ctx.io);
      try {
        while (job.state === 'running') {
          progress.show(job);
          await new Promise((resolve) => setTimeout(resolve, POLL_MS));
          job = (await api.get<ReplayJob>(`admin/replay/${encodeURIComponent(job.id)}`)).body;
        }
      } finally {
        progress.end();
      }
      if (job.state !== 'done') {
        throw new CliError(`the replay of ${projection} failed: ${job.error ?? `it ended ${job.state}`}`, EXIT.refused, `the server's log tells more (replay ${job.id})`);
      }
      if (options.json) printJson(ctx.io, job);
      else ctx.io.stdout(summary(job));
    });
};
