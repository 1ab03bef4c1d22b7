export const SIGN_IN_SUCCEEDED = 'SignInSucceeded';
export const SIGN_IN_FAILED = 'SignInFailed';

/** v1. A user signed in on the authorization form. */
export interface SignInSucceededV1 {
  userId: string;
  clientId: string;
  directory: 'local' | 'ldap';
  sourceAddress: string | null;
}

/**
 * v1. A sign-in was refused. `username` is what was typed only if it looks like a user id
 * (a password typed into the wrong field must not end up here), else null.
 */
export interface SignInFailedV1 {
  username: string | null;
  clientId: string;
  directory: 'local' | 'ldap';
  reason: 'bad_credentials' | 'throttled';
  sourceAddress: string | null;
}
