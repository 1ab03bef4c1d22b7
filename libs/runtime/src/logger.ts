import type { LoggerService } from '@nestjs/common';
import type { Log, LogFields } from './log';

type Level = 'log' | 'warn' | 'error' | 'debug' | 'verbose' | 'fatal';

const STACK = /\n\s+at /;

/** The fields every line has; a caller's field of the same name is dropped, never forged. */
const OWN = new Set(['level', 'pid', 'timestamp', 'message', 'context']);

/**
 * Lines wait in memory until the end of the event loop turn and leave in one write: a busy
 * server logs a line per request, and a write per line cost it as much as the request's own
 * routing. The process flushes what is left when it exits.
 */
let pending = '';
let scheduled = false;

export function flushLogs(): void {
  scheduled = false;
  if (!pending) return;
  const text = pending;
  pending = '';
  process.stdout.write(text);
}
process.on('exit', flushLogs);

function write(line: string): void {
  pending += line;
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushLogs);
  }
}

function text(message: unknown): string {
  if (typeof message === 'string') return message;
  if (message instanceof Error) return message.message;
  return typeof message === 'object' ? JSON.stringify(message) : String(message);
}

/**
 * One JSON object per line on stdout, errors included (README, Observability): one stream keeps
 * the lines in the order they were logged, which two streams flushed apart would not.
 * Fields given with a line go at its top level: a line that a request causes names the
 * request's `correlationId` (there is no implicit request context: Node 20 keeps one with
 * promise hooks, which cost every promise of the process, ~12% of the event loop here).
 */
export class JsonLogger implements LoggerService {
  constructor(private readonly context: string) {}

  line(level: Level, message: unknown, fields?: LogFields, context = this.context): void {
    const entry: Record<string, unknown> = { level, pid: process.pid, timestamp: Date.now(), message: text(message), context };
    if (fields) for (const key in fields) if (!OWN.has(key) && fields[key] !== undefined) entry[key] = fields[key];
    write(`${JSON.stringify(entry)}\n`);
  }

  // Nest calls these with (message, ...optionalParams), the last of which may be a context name.
  log(message: unknown, ...params: unknown[]): void {
    this.nest('log', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.nest('warn', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.nest('error', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.nest('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.nest('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.nest('fatal', message, params);
  }

  /** Nest's own lines: a stack trace where it gives one (error, fatal), in a field, its context name last. */
  private nest(level: Level, message: unknown, params: unknown[]): void {
    const strings = params.filter((p): p is string => typeof p === 'string');
    const stack = strings.find((p) => STACK.test(p)) ?? (message instanceof Error ? message.stack : undefined);
    const context = strings.filter((p) => p !== stack).at(-1) ?? this.context;
    this.line(level, message, stack ? { stack } : undefined, context);
  }
}

export function createLogger(context: string): { nest: JsonLogger; log: Log } {
  const nest = new JsonLogger(context);
  const log: Log = (level, message, fields?: LogFields) => nest.line(level === 'info' ? 'log' : level, message, fields);
  return { nest, log };
}
