import { InvalidArgumentError } from 'commander';
import type { ApiClient } from '../api';

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number of at least 1');
  return n;
}

/** `2026-11-23T02:00:00.000Z` → `2026-11-23 02:00:00`, as CUCM's dbinfo('utc_to_datetime', …). */
export function utcDateTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
}

/**
 * Follows an admin list's cursors: `limit` items at most, or every item with `all`. Answers
 * whether the server had more.
 */
export async function collectPages<T>(
  api: ApiClient,
  path: string,
  field: string,
  query: Record<string, string | undefined>,
  limit: number,
  all: boolean,
): Promise<{ items: T[]; more: boolean }> {
  const items: T[] = [];
  let cursor: string | null | undefined;
  do {
    const pageSize = all ? 500 : Math.min(500, limit - items.length);
    const { body } = await api.get<Record<string, unknown> & { nextCursor: string | null }>(path, {
      query: { ...query, limit: pageSize, cursor: cursor ?? undefined },
    });
    items.push(...(body[field] as T[]));
    cursor = body.nextCursor;
  } while (cursor && (all || items.length < limit));
  return { items, more: Boolean(cursor) };
}
