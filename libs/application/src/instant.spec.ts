import { ValidationError } from '@authz/domain';
import { parseInstant } from './instant';

describe('parseInstant (the since/until of the audit)', () => {
  it.each([
    ['2026-11-23', '2026-11-23T00:00:00.000Z'],
    ['2026-11-23T02:00Z', '2026-11-23T02:00:00.000Z'],
    ['2026-11-23T02:00:00Z', '2026-11-23T02:00:00.000Z'],
    ['2026-11-23T02:00:00.5+01:00', '2026-11-23T01:00:00.500Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['2000-02-29', '2000-02-29T00:00:00.000Z'],
    ['0001-01-01', '0001-01-01T00:00:00.000Z'],
    ['9999-12-31T23:59:59.999999Z', '9999-12-31T23:59:59.999Z'],
  ])('reads %s as %s', (value, iso) => {
    expect(parseInstant(value, 'since')!.toISOString()).toBe(iso);
  });

  it('leaves an absent value absent', () => {
    expect(parseInstant(undefined, 'since')).toBeUndefined();
  });

  it.each([
    ['year 0000', '0000-01-01'],
    ['year 0000 with a time', '0000-06-01T00:00:00Z'],
    ['year 0 in UTC once the zone is applied', '0001-01-01T00:30:00+01:00'],
    ['past year 9999 once the zone is applied', '9999-12-31T23:30:00-01:00'],
    ['five digits of year', '10000-01-01'],
    ['a signed year', '+275760-09-13'],
    ['February 30th (JavaScript rolls it over to March)', '2026-02-30'],
    ['February 29th of a common year', '2025-02-29'],
    ['February 29th of 1900', '1900-02-29'],
    ['month 13', '2026-13-01'],
    ['month 00', '2026-00-10'],
    ['day 00', '2026-01-00'],
    ['April 31st', '2026-04-31'],
    ['hour 24 (JavaScript reads the next day)', '2026-01-01T24:00:00Z'],
    ['minute 60', '2026-01-01T23:60Z'],
    ['second 60', '2026-01-01T23:59:60Z'],
    ['an offset of 24 hours', '2026-01-01T00:00+24:00'],
    ['an offset minute of 60', '2026-01-01T00:00+01:60'],
    ['a time without a zone (local time of which node?)', '2026-01-01T10:00:00'],
    ['a word', 'yesterday'],
    ['a number', '1767225600000'],
    ['an empty string', ''],
    ['a NUL after a date', '2026-01-01\u0000'],
    ['seven digits of fraction', '2026-01-01T00:00:00.1234567Z'],
  ])('refuses %s (%s) with a 400 INVALID_DATE naming the parameter', (_, value) => {
    let error: unknown;
    try {
      parseInstant(value, 'until');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: 'INVALID_DATE', message: expect.stringMatching(/^until must be/) });
  });
});
