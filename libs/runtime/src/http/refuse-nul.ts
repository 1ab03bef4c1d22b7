import type { FastifyInstance } from 'fastify';
import { hasNul, nulCharacterError } from '@authz/domain';

/** The name of a field as an error message shows it: quoted, escaped, and short. */
function fieldName(path: readonly string[]): string {
  return JSON.stringify(path.join('.').slice(0, 64));
}

interface Step {
  value: unknown;
  key: string | undefined;
  parent: Step | undefined;
}

function pathOf(step: Step): string[] {
  const path: string[] = [];
  for (let s: Step | undefined = step; s?.key !== undefined; s = s.parent) path.push(s.key);
  return path.reverse();
}

/**
 * Where in a parsed value (a JSON body, a form, the query, the path parameters) a string or a
 * key holds U+0000: the field's path, `[]` for the value itself, or undefined when none does.
 * Depth first, without recursion and in time linear in the value's size: however deep a body
 * nests, the scan neither overflows the stack nor misses what is at the bottom (each step
 * points at its parent; the path is spelled out only for the field found).
 */
export function findNul(value: unknown): string[] | undefined {
  const pending: Step[] = [{ value, key: undefined, parent: undefined }];
  while (pending.length > 0) {
    const step = pending.pop()!;
    const current = step.value;
    if (typeof current === 'string') {
      if (hasNul(current)) return pathOf(step);
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) pending.push({ value: current[i], key: String(i), parent: step });
      continue;
    }
    const keys = Object.keys(current);
    for (const key of keys) if (hasNul(key)) return [...pathOf(step), key];
    for (let i = keys.length - 1; i >= 0; i--) pending.push({ value: (current as Record<string, unknown>)[keys[i]], key: keys[i], parent: step });
  }
  return undefined;
}

/**
 * Refuses, for every route and before any guard or handler, a request whose parsed body
 * (JSON or form: `%00`, `\u0000`), query or path parameters hold a NUL character: 400
 * invalid_request, code NUL_CHARACTER. What is decoded later (HTTP Basic credentials) is
 * checked where it is decoded.
 */
export function refuseNul(app: FastifyInstance): void {
  app.addHook('preValidation', (request, _reply, done) => {
    for (const [where, value] of [
      ['the body', request.body],
      ['the query', request.query],
      ['the path', request.params],
    ] as const) {
      const found = findNul(value);
      if (found) return done(nulCharacterError(found.length ? `${where} field ${fieldName(found)}` : where));
    }
    done();
  });
}
