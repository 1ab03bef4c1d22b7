export const ONOFF = ['Enabled', 'Disabled'] as const;
export type OnOff = (typeof ONOFF)[number];

/** The enterprise parameters of seed S9, with the names the admin API uses. */
export interface EnterpriseParameterValues {
  oauthWithRefreshLoginFlow: OnOff;
  accessTokenExpiryMinutes: number;
  refreshTokenExpiryDays: number;
  /** Not in the seed (which keeps a refresh token for its whole validity): single-use refresh tokens. */
  refreshTokenRotation: OnOff;
}

export const ENTERPRISE_PARAMETERS_CHANGED = 'EnterpriseParametersChanged';

/** v1: only the parameters that changed, each with its previous value. */
export interface EnterpriseParametersChangedV1 {
  changes: Partial<EnterpriseParameterValues>;
  previous: Partial<EnterpriseParameterValues>;
}
