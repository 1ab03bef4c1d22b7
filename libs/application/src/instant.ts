import { ValidationError } from '@authz/domain';

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(?:Z|[+-](\d{2}):(\d{2})))?$/;

/** Years 0001–9999 (in UTC): what ISO 8601's four digits, JavaScript and PostgreSQL all read alike. */
const FIRST_YEAR = 1;
const LAST_YEAR = 9999;

const isLeap = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysIn = (year: number, month: number) => (month === 2 && isLeap(year) ? 29 : DAYS[month - 1]);

/**
 * An ISO 8601 date (`2026-11-23`, midnight UTC) or date-time with a zone (`2026-11-23T02:00Z`,
 * `…T02:00:00.5+01:00`), checked field by field: JavaScript would roll `2026-02-31` over to
 * March and read `T24:00` as the next day, and it takes year 0000, which PostgreSQL refuses
 * (a 500 before this check). Anything else is a 400 INVALID_DATE naming `name`.
 */
export function parseInstant(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const invalid = () =>
    new ValidationError('INVALID_DATE', `${name} must be an ISO 8601 date or date-time from year 0001 to 9999, e.g. 2026-11-23 or 2026-11-23T02:00:00Z`);
  const match = ISO_INSTANT.exec(value);
  if (!match) throw invalid();
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = match.slice(1).map((part) => Number(part ?? 0));
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) throw invalid();
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) throw invalid();
  const date = new Date(value);
  const utcYear = date.getUTCFullYear();
  if (Number.isNaN(date.getTime()) || utcYear < FIRST_YEAR || utcYear > LAST_YEAR) throw invalid();
  return date;
}
