export const USER_REGISTERED = 'UserRegistered';

export type Role = 'admin' | 'key-reader';
export const ROLES: readonly Role[] = ['admin', 'key-reader'];

/** v1. The password hash is deliberately not part of the event: it never leaves the database. */
export interface UserRegisteredV1 {
  userId: string;
  roles: Role[];
  directory: 'local';
}
