import { ValidationError } from './errors';

/**
 * U+0000 is no character any field of this service takes (ids, names, passwords, scopes,
 * URIs, dates), and PostgreSQL refuses it in `text` and `jsonb`: a request that holds one is
 * refused as a bad request before it reaches a handler, instead of failing in the database.
 */
export function hasNul(value: string): boolean {
  return value.includes('\u0000');
}

/** The 400 for a NUL character in `where` (e.g. `the body field "userId"`). */
export function nulCharacterError(where: string): ValidationError {
  return new ValidationError('NUL_CHARACTER', `a NUL character (U+0000) in ${where}: no field accepts one`);
}
