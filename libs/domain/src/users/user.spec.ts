import { USER_REGISTERED } from '@authz/contracts';
import { DomainError, ValidationError } from '../errors';
import { User, parseRoles, parseUserId } from './user';

describe('User', () => {
  it('given no history, when registered, then UserRegistered carries the id and roles but no secret', () => {
    const user = new User();
    user.register('alice', ['key-reader']);
    expect(user.uncommittedEvents()).toEqual([
      { type: USER_REGISTERED, schemaVersion: 1, data: { userId: 'alice', roles: ['key-reader'], directory: 'local' } },
    ]);
    expect(user.exists).toBe(true);
  });

  it('given a registered user, when registered again, then USER_EXISTS and no event', () => {
    const user = new User().loadFromHistory([{ type: USER_REGISTERED, data: { userId: 'alice', roles: ['admin'], directory: 'local' } }]);
    expect(user.roles).toEqual(['admin']);
    expect(() => user.register('alice', [])).toThrow(expect.objectContaining({ code: 'USER_EXISTS' }) as unknown as DomainError);
    expect(user.uncommittedEvents()).toEqual([]);
  });

  it.each(['', 'a b', 'x'.repeat(129), 'robert";drop', 42, null])('rejects the user id %p', (id) => {
    expect(() => parseUserId(id)).toThrow(ValidationError);
  });

  it('accepts e-mail-like ids', () => {
    expect(parseUserId('jane.doe@example.com')).toBe('jane.doe@example.com');
  });

  it('rejects unknown roles and removes duplicates', () => {
    expect(() => parseRoles(['root'])).toThrow(ValidationError);
    expect(() => parseRoles('admin')).toThrow(ValidationError);
    expect(parseRoles(['admin', 'admin'])).toEqual(['admin']);
  });
});
