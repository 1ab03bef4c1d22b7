import {
  CURRENT_SCHEMA_VERSIONS,
  ENTERPRISE_PARAMETERS_CHANGED,
  ONOFF,
  type EnterpriseParameterValues,
  type EnterpriseParametersChangedV1,
  type OnOff,
} from '@authz/contracts';
import { AggregateRoot } from '../aggregate-root';
import { ValidationError } from '../errors';

export const PARAMETERS_STREAM_ID = 'cluster';

export const DEFAULT_PARAMETERS: Readonly<EnterpriseParameterValues> = Object.freeze({
  oauthWithRefreshLoginFlow: 'Disabled',
  accessTokenExpiryMinutes: 60,
  refreshTokenExpiryDays: 60,
  refreshTokenRotation: 'Disabled',
});

const RANGES = {
  accessTokenExpiryMinutes: { min: 1, max: 1440, unit: 'minutes' },
  refreshTokenExpiryDays: { min: 1, max: 90, unit: 'days' },
} as const;

/** The longest a refresh token can live (seed S9): what retired signing keys are kept for. */
export const REFRESH_TOKEN_EXPIRY_DAYS_MAX = RANGES.refreshTokenExpiryDays.max;

/**
 * Checks a partial update as a client sent it (any JSON) and returns it typed.
 * Every problem is reported at once, so that a client can fix its request in one go.
 */
export function parseParameterChanges(input: unknown): Partial<EnterpriseParameterValues> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('PARAMETERS_NOT_AN_OBJECT', 'the body must be a JSON object of parameters');
  }
  const problems: string[] = [];
  const changes: Partial<EnterpriseParameterValues> = {};
  for (const [name, value] of Object.entries(input)) {
    if (name === 'oauthWithRefreshLoginFlow' || name === 'refreshTokenRotation') {
      if (ONOFF.includes(value as OnOff)) changes[name] = value as OnOff;
      else problems.push(`${name} must be "Enabled" or "Disabled"`);
    } else if (name === 'accessTokenExpiryMinutes' || name === 'refreshTokenExpiryDays') {
      const { min, max, unit } = RANGES[name];
      if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) changes[name] = value;
      else problems.push(`${name} must be a whole number of ${unit} from ${min} to ${max}`);
    } else {
      problems.push(`unknown parameter "${name}"`);
    }
  }
  if (problems.length > 0) {
    throw new ValidationError('INVALID_PARAMETERS', problems.join('; '), { problems });
  }
  if (Object.keys(changes).length === 0) {
    throw new ValidationError('NO_PARAMETERS', 'the body names no parameter to change');
  }
  return changes;
}

/** The cluster's enterprise parameters (seed S9): one stream for the whole cluster. */
export class EnterpriseParameters extends AggregateRoot {
  private values: EnterpriseParameterValues = { ...DEFAULT_PARAMETERS };

  current(): EnterpriseParameterValues {
    return { ...this.values };
  }

  /** Applies a validated partial update; values equal to the current ones are no change. */
  change(requested: Partial<EnterpriseParameterValues>): void {
    const changes: Partial<EnterpriseParameterValues> = {};
    const previous: Partial<EnterpriseParameterValues> = {};
    for (const key of Object.keys(requested) as (keyof EnterpriseParameterValues)[]) {
      if (requested[key] !== undefined && requested[key] !== this.values[key]) {
        Object.assign(changes, { [key]: requested[key] });
        Object.assign(previous, { [key]: this.values[key] });
      }
    }
    if (Object.keys(changes).length === 0) return;
    this.raise<EnterpriseParametersChangedV1>(
      ENTERPRISE_PARAMETERS_CHANGED,
      CURRENT_SCHEMA_VERSIONS[ENTERPRISE_PARAMETERS_CHANGED],
      { changes, previous },
    );
  }

  protected onEnterpriseParametersChanged(data: EnterpriseParametersChangedV1): void {
    this.values = { ...this.values, ...data.changes };
  }
}
