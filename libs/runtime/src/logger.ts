import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { currentCorrelationId } from './http/correlation';
import type { Log, LogFields } from './log';

/**
 * One JSON object per line on stdout, for people and log shippers alike. Fields given with a
 * line go at its top level; the correlation id of the request being handled is added unless
 * the line names one (e.g. the event's, in a projection's error).
 */
export class JsonLogger extends ConsoleLogger {
  constructor(context: string) {
    super(context, { json: true, colors: false, flattenParams: true });
  }

  protected override getJsonLogObject(message: unknown, options: { context: string; logLevel: LogLevel; params?: Record<string, unknown> }) {
    const entry = super.getJsonLogObject(message, options);
    const correlationId = currentCorrelationId();
    if (correlationId && !('correlationId' in entry)) entry.correlationId = correlationId;
    return entry;
  }
}

export function createLogger(context: string): { nest: JsonLogger; log: Log } {
  const nest = new JsonLogger(context);
  const log: Log = (level, message, fields?: LogFields) => {
    const params = fields ? [fields] : [];
    if (level === 'info') nest.log(message, ...params, context);
    else if (level === 'warn') nest.warn(message, ...params, context);
    else nest.error(message, fields, context);
  };
  return { nest, log };
}
