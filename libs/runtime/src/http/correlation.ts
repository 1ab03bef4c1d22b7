import { randomUUID } from 'node:crypto';

/** Bounded and plain, so that a caller's id is safe in a header, a log line and the event store. */
const WELL_FORMED = /^[A-Za-z0-9._:-]{1,64}$/;

/** The caller's correlation id when it is well formed, else a new one. */
export function acceptCorrelationId(given: string | undefined): string {
  return given !== undefined && WELL_FORMED.test(given) ? given : randomUUID();
}
