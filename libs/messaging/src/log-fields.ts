import type { ErrorLogFields } from '@authz/application';

/** The `logFields` a handler's error carries (see EventTransport), if any. */
export function logFieldsOf(error: unknown): ErrorLogFields | undefined {
  const fields = (error as { logFields?: unknown } | null | undefined)?.logFields;
  return typeof fields === 'object' && fields !== null ? (fields as ErrorLogFields) : undefined;
}
