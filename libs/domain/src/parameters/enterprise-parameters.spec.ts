import { ENTERPRISE_PARAMETERS_CHANGED } from '@authz/contracts';
import { DEFAULT_PARAMETERS, EnterpriseParameters, parseParameterChanges } from './enterprise-parameters';
import { ValidationError } from '../errors';

const changed = (changes: object, previous: object) => ({ type: ENTERPRISE_PARAMETERS_CHANGED, data: { changes, previous } });

function given(...history: ReturnType<typeof changed>[]) {
  return new EnterpriseParameters().loadFromHistory(history);
}

function rejects(input: unknown): ValidationError {
  try {
    parseParameterChanges(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('accepted');
}

describe('EnterpriseParameters', () => {
  it('starts at the seed defaults: Disabled, 60 minutes, 60 days', () => {
    expect(given().current()).toEqual({ oauthWithRefreshLoginFlow: 'Disabled', accessTokenExpiryMinutes: 60, refreshTokenExpiryDays: 60, refreshTokenRotation: 'Disabled' });
    expect(DEFAULT_PARAMETERS.accessTokenExpiryMinutes).toBe(60);
  });

  it('given no history, when a parameter changes, then one event holds the change and the previous value', () => {
    const parameters = given();
    parameters.change(parseParameterChanges({ oauthWithRefreshLoginFlow: 'Enabled', accessTokenExpiryMinutes: 1440 }));
    expect(parameters.uncommittedEvents()).toEqual([
      {
        type: ENTERPRISE_PARAMETERS_CHANGED,
        schemaVersion: 1,
        data: {
          changes: { oauthWithRefreshLoginFlow: 'Enabled', accessTokenExpiryMinutes: 1440 },
          previous: { oauthWithRefreshLoginFlow: 'Disabled', accessTokenExpiryMinutes: 60 },
        },
      },
    ]);
    expect(parameters.version).toBe(0);
  });

  it('given earlier changes, when the same values are set again, then nothing is decided', () => {
    const parameters = given(changed({ refreshTokenExpiryDays: 90 }, { refreshTokenExpiryDays: 60 }));
    expect(parameters.version).toBe(1);
    parameters.change({ refreshTokenExpiryDays: 90 });
    expect(parameters.uncommittedEvents()).toEqual([]);
  });

  it('given earlier changes, when one of several values differs, then only that one is in the event', () => {
    const parameters = given(changed({ accessTokenExpiryMinutes: 5 }, { accessTokenExpiryMinutes: 60 }));
    parameters.change({ accessTokenExpiryMinutes: 5, refreshTokenExpiryDays: 1 });
    expect(parameters.uncommittedEvents()[0].data).toEqual({
      changes: { refreshTokenExpiryDays: 1 },
      previous: { refreshTokenExpiryDays: 60 },
    });
    expect(parameters.current().accessTokenExpiryMinutes).toBe(5);
  });

  it.each([1, 1440])('accepts %d minutes (the bounds)', (n) => {
    expect(parseParameterChanges({ accessTokenExpiryMinutes: n })).toEqual({ accessTokenExpiryMinutes: n });
  });

  it.each([1, 90])('accepts %d days (the bounds)', (n) => {
    expect(parseParameterChanges({ refreshTokenExpiryDays: n })).toEqual({ refreshTokenExpiryDays: n });
  });

  it.each([0, 1441, -1, 1.5, '60', null, true, Number.NaN, 1e309])('rejects access token expiry %p', (value) => {
    expect(rejects({ accessTokenExpiryMinutes: value }).code).toBe('INVALID_PARAMETERS');
  });

  it.each([0, 91, 2.5, '7', [], {}])('rejects refresh token expiry %p', (value) => {
    expect(rejects({ refreshTokenExpiryDays: value }).message).toContain('from 1 to 90');
  });

  it.each(['enabled', 'ENABLED', 'On', 1, true, null])('rejects login flow %p: only "Enabled" or "Disabled"', (value) => {
    expect(rejects({ oauthWithRefreshLoginFlow: value }).message).toContain('"Enabled" or "Disabled"');
  });

  it('reports every problem of a request at once, unknown names included', () => {
    const error = rejects({ accessTokenExpiryMinutes: 0, refreshTokenExpiryDays: 100, colour: 'blue' });
    expect(error.details?.problems).toHaveLength(3);
    expect(error.message).toContain('unknown parameter "colour"');
  });

  it.each([null, [], 'x', 42, undefined])('rejects a body that is not an object: %p', (body) => {
    expect(rejects(body).code).toBe('PARAMETERS_NOT_AN_OBJECT');
  });

  it('rejects an empty object: nothing to change', () => {
    expect(rejects({}).code).toBe('NO_PARAMETERS');
  });

  it('ignores a prototype-polluting key as an unknown parameter', () => {
    expect(rejects(JSON.parse('{"__proto__": {"x": 1}}')).message).toContain('unknown parameter "__proto__"');
  });
});
