import { ValidationError } from '@authz/domain';

const CURSOR = /^c1\.([1-9][0-9]{0,17})$/;
const MAX_LIMIT = 500;

/** Cursors are opaque to clients; inside, the key the previous page ended before. */
export function encodeCursor(before: number | null): string | null {
  return before === null ? null : `c1.${before}`;
}

export function decodeCursor(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const match = typeof value === 'string' ? CURSOR.exec(value) : null;
  if (!match || !Number.isSafeInteger(Number(match[1]))) throw new ValidationError('INVALID_CURSOR', 'cursor is not one this server gave');
  return Number(match[1]);
}

export function parseLimit(value: unknown, fallback = 50): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^[0-9]{1,4}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) throw new ValidationError('INVALID_LIMIT', `limit must be a whole number from 1 to ${MAX_LIMIT}`);
  return n;
}

/** A query parameter given once at most (Express turns a repeated one into an array). */
export function single(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ValidationError('INVALID_PARAMETER', `${name} must be given once`);
  return value;
}
