import { ConfigError } from '../config';
import { LdapDirectory, escapeLdapFilterValue, loadLdapConfig } from './ldap-directory';

// The directory itself is tested against a real OpenLDAP in test/integration/ldap-directory.spec.ts.

describe('escapeLdapFilterValue (RFC 4515)', () => {
  it('escapes * ( ) \\ and NUL, and nothing else', () => {
    expect(escapeLdapFilterValue('*)(uid=*')).toBe('\\2a\\29\\28uid=\\2a');
    expect(escapeLdapFilterValue('a\\b\0c')).toBe('a\\5cb\\00c');
    expect(escapeLdapFilterValue('alice ålice,=+"<>;#')).toBe('alice ålice,=+"<>;#');
  });
});

describe('LdapDirectory', () => {
  it('refuses empty and oversized credentials without asking the directory', async () => {
    const ldap = new LdapDirectory({ url: 'ldap://127.0.0.1:1', baseDn: 'dc=x' });
    await expect(ldap.authenticate('alice', '')).resolves.toBeNull();
    await expect(ldap.authenticate('', 'secret')).resolves.toBeNull();
    await expect(ldap.authenticate('a'.repeat(257), 'secret')).resolves.toBeNull();
    await expect(ldap.authenticate('alice', 'p'.repeat(1025))).resolves.toBeNull();
  });
});

describe('loadLdapConfig', () => {
  const base = { AUTHZ_LDAP_URL: 'ldap://ldap.example.com:389', AUTHZ_LDAP_BASE_DN: 'ou=people,dc=example,dc=com' };

  it('reads the variables, with defaults for the optional ones', () => {
    expect(loadLdapConfig(base)).toEqual({
      url: 'ldap://ldap.example.com:389',
      baseDn: 'ou=people,dc=example,dc=com',
      bindDn: undefined,
      bindPassword: undefined,
      userFilter: '(uid={username})',
      userIdAttribute: 'uid',
      timeoutMs: 3000,
    });
    expect(
      loadLdapConfig({
        ...base,
        AUTHZ_LDAP_URL: 'ldaps://ad.example.com/',
        AUTHZ_LDAP_BIND_DN: 'cn=svc,dc=example,dc=com',
        AUTHZ_LDAP_BIND_PASSWORD: 's3cret',
        AUTHZ_LDAP_USER_FILTER: '(&(objectClass=user)(sAMAccountName={username}))',
        AUTHZ_LDAP_USER_ID_ATTRIBUTE: 'sAMAccountName',
        AUTHZ_LDAP_TIMEOUT_MS: '1500',
      }),
    ).toEqual({
      url: 'ldaps://ad.example.com',
      baseDn: 'ou=people,dc=example,dc=com',
      bindDn: 'cn=svc,dc=example,dc=com',
      bindPassword: 's3cret',
      userFilter: '(&(objectClass=user)(sAMAccountName={username}))',
      userIdAttribute: 'sAMAccountName',
      timeoutMs: 1500,
    });
  });

  it.each([
    [{ AUTHZ_LDAP_BASE_DN: 'dc=x' }, /AUTHZ_LDAP_URL is required/],
    [{ AUTHZ_LDAP_URL: 'ldap://h' }, /AUTHZ_LDAP_BASE_DN is required/],
    [{ ...base, AUTHZ_LDAP_URL: 'http://h' }, /AUTHZ_LDAP_URL must be ldap:/],
    [{ ...base, AUTHZ_LDAP_BIND_DN: 'cn=svc' }, /AUTHZ_LDAP_BIND_PASSWORD is empty/],
    [{ ...base, AUTHZ_LDAP_BIND_PASSWORD: 'x' }, /AUTHZ_LDAP_BIND_DN is not/],
    [{ ...base, AUTHZ_LDAP_USER_FILTER: '(uid=alice)' }, /containing \{username\}/],
    [{ ...base, AUTHZ_LDAP_USER_FILTER: '(&(uid={username})' }, /not a valid LDAP filter.*unbalanced/],
    [{ ...base, AUTHZ_LDAP_USER_FILTER: '(uid={username}))' }, /not a valid LDAP filter/],
    [{ ...base, AUTHZ_LDAP_USER_FILTER: '(uid={username})(cn=x)' }, /not a valid LDAP filter.*more than one/],
    [{ ...base, AUTHZ_LDAP_USER_FILTER: '(uid={username}\\zz)' }, /not a valid LDAP filter.*hex/],
    [{ ...base, AUTHZ_LDAP_USER_ID_ATTRIBUTE: 'uid)' }, /AUTHZ_LDAP_USER_ID_ATTRIBUTE/],
    [{ ...base, AUTHZ_LDAP_TIMEOUT_MS: 'soon' }, /AUTHZ_LDAP_TIMEOUT_MS/],
  ])('refuses %j with a clear error', (env, message) => {
    expect(() => loadLdapConfig(env)).toThrow(ConfigError);
    expect(() => loadLdapConfig(env)).toThrow(message);
  });
});
