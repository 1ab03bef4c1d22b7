import { CURRENT_SCHEMA_VERSIONS, ROLES, USER_REGISTERED, type Role, type UserRegisteredV1 } from '@authz/contracts';
import { AggregateRoot } from '../aggregate-root';
import { DomainError, ValidationError } from '../errors';

const USER_ID = /^[A-Za-z0-9._@-]{1,128}$/;

/** Whether `value` could be a local account's id (anything else names no account, and is never looked up). */
export function isUserId(value: unknown): value is string {
  return typeof value === 'string' && USER_ID.test(value);
}

export function parseUserId(value: unknown): string {
  if (!isUserId(value)) {
    throw new ValidationError('INVALID_USER_ID', 'userId must be 1–128 characters of letters, digits and . _ @ -');
  }
  return value;
}

export function parseRoles(value: unknown): Role[] {
  if (!Array.isArray(value) || value.some((r) => !ROLES.includes(r as Role))) {
    throw new ValidationError('INVALID_ROLES', `roles must be a list of: ${ROLES.join(', ')}`);
  }
  return [...new Set(value as Role[])];
}

/** A local account (seed S4, non-SSO). Its password hash is kept beside the stream, not in it. */
export class User extends AggregateRoot {
  private registered?: UserRegisteredV1;

  get exists(): boolean {
    return this.registered !== undefined;
  }

  get roles(): readonly Role[] {
    return this.registered?.roles ?? [];
  }

  register(userId: string, roles: Role[]): void {
    if (this.exists) throw new DomainError('USER_EXISTS', `user "${userId}" already exists`);
    this.raise<UserRegisteredV1>(USER_REGISTERED, CURRENT_SCHEMA_VERSIONS[USER_REGISTERED], {
      userId,
      roles,
      directory: 'local',
    });
  }

  protected onUserRegistered(data: UserRegisteredV1): void {
    this.registered = data;
  }
}
