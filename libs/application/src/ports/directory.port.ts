/**
 * Where end users log in (seed S4, non-SSO): the local accounts of this cluster, or an LDAP
 * directory by simple bind. An unknown user and a wrong password are the same answer: null.
 */
export interface UserDirectory {
  readonly name: 'local' | 'ldap';
  authenticate(username: string, password: string): Promise<{ userId: string } | null>;
}

export const USER_DIRECTORY = Symbol('UserDirectory');
