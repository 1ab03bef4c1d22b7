import { ConsoleLogger } from '@nestjs/common';
import type { Log } from './runtime';

/** One JSON object per line on stdout, for people and log shippers alike. */
export function createLogger(context: string): { nest: ConsoleLogger; log: Log } {
  const nest = new ConsoleLogger(context, { json: true, colors: false });
  const log: Log = (level, message) => {
    if (level === 'info') nest.log(message, context);
    else if (level === 'warn') nest.warn(message, context);
    else nest.error(message, undefined, context);
  };
  return { nest, log };
}
