import { createServer, type Server, type Socket } from 'node:net';
import { DirectoryUnavailableError, LdapDirectory, type LdapDirectoryConfig } from '../../libs/runtime/src/directory/ldap-directory';

// A real OpenLDAP server: `bash scripts/ldap.sh up` (scripts/test.sh starts it). Its users
// and passwords are in scripts/ldap/seed.ldif.tmpl.
const url = process.env.AUTHZ_TEST_LDAP_URL ?? 'ldap://127.0.0.1:13389';
const baseDn = process.env.AUTHZ_TEST_LDAP_BASE_DN ?? 'dc=authz,dc=test';
const bindDn = process.env.AUTHZ_TEST_LDAP_BIND_DN ?? 'cn=authz-reader,ou=services,dc=authz,dc=test';
const bindPassword = process.env.AUTHZ_TEST_LDAP_BIND_PASSWORD ?? 'reader-password';
const people = `ou=people,${baseDn}`;
const CAROL = 'c*rol (ops), x\\y'; // * ( ) \ in filters, "," and "\" in her DN

const directory = (config: Partial<LdapDirectoryConfig> = {}) => new LdapDirectory({ url, baseDn: people, timeoutMs: 2000, ...config });

/** A port nothing listens on: bound once by us, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('LdapDirectory (real OpenLDAP from scripts/ldap.sh)', () => {
  beforeAll(async () => {
    // Fail with a pointer, not 20 confusing failures, when the server is not there.
    await expect(directory().authenticate('alice', 'alice-password')).resolves.toEqual({ userId: 'alice' });
  }, 10_000);

  describe.each([
    ['anonymously', {}],
    ['as the service account', { bindDn, bindPassword }],
  ])('searching %s', (_, account: Partial<LdapDirectoryConfig>) => {
    const ldap = directory(account);

    it('logs alice and bob in with their passwords, answering with the uid attribute', async () => {
      expect(ldap.name).toBe('ldap');
      await expect(ldap.authenticate('alice', 'alice-password')).resolves.toEqual({ userId: 'alice' });
      await expect(ldap.authenticate('bob', 'bob-password')).resolves.toEqual({ userId: 'bob' });
      // uid matches case-insensitively; the answer is the directory's spelling.
      await expect(ldap.authenticate('ALICE', 'alice-password')).resolves.toEqual({ userId: 'alice' });
    });

    it('answers null, and only null, for a wrong password, an unknown user or someone else\'s password', async () => {
      const answers = await Promise.all([
        ldap.authenticate('alice', 'wrong-password'),
        ldap.authenticate('alice', 'ALICE-PASSWORD'),
        ldap.authenticate('alice', 'bob-password'),
        ldap.authenticate('mallory', 'alice-password'),
        ldap.authenticate('mallory', 'wrong-password'),
      ]);
      expect(answers).toEqual([null, null, null, null, null]);
    });

    it('refuses an empty password (an LDAP "unauthenticated bind") and an empty username', async () => {
      await expect(ldap.authenticate('alice', '')).resolves.toBeNull();
      await expect(ldap.authenticate('', 'alice-password')).resolves.toBeNull();
      await expect(ldap.authenticate('', '')).resolves.toBeNull();
    });

    it('escapes the username in the filter: injections find nobody', async () => {
      for (const injection of ['*)(uid=*', '*', 'a*', 'alice)(uid=*', 'alice)(|(uid=*)', '*)(|(objectClass=*)', 'alice\\', 'alice\0']) {
        await expect(ldap.authenticate(injection, 'alice-password')).resolves.toBeNull();
      }
    });

    it('answers null, without an error, for usernames full of LDAP special characters', async () => {
      for (const name of ['(', ')', '\\', '\\2a', '*()\\\0', 'cn=admin,dc=authz,dc=test', 'uid=alice,ou=people', '"#+,;<=>', 'ålice ☃', ' alice']) {
        await expect(ldap.authenticate(name, 'x-password')).resolves.toBeNull();
      }
    });

    it('logs in a user whose uid has * ( ) \\ and a comma: the filter is escaped and her DN passed on as it is', async () => {
      await expect(ldap.authenticate(CAROL, 'carol-password')).resolves.toEqual({ userId: CAROL });
      await expect(ldap.authenticate(CAROL, 'alice-password')).resolves.toBeNull();
      await expect(ldap.authenticate('c*', 'carol-password')).resolves.toBeNull();
    });

    it('handles many logins at once, one connection each', async () => {
      const logins = Array.from({ length: 30 }, (_, i) =>
        i % 3 === 0 ? ldap.authenticate('alice', 'alice-password') : i % 3 === 1 ? ldap.authenticate('bob', 'bob-password') : ldap.authenticate('bob', 'nope'),
      );
      const answers = await Promise.all(logins);
      answers.forEach((answer, i) => expect(answer).toEqual(i % 3 === 0 ? { userId: 'alice' } : i % 3 === 1 ? { userId: 'bob' } : null));
    });
  });

  it('uses a configured user filter and id attribute', async () => {
    const byMail = directory({ userFilter: '(&(objectClass=inetOrgPerson)(mail={username}))' });
    await expect(byMail.authenticate('alice@authz.test', 'alice-password')).resolves.toEqual({ userId: 'alice' });
    await expect(byMail.authenticate('alice', 'alice-password')).resolves.toBeNull();
    const mailAsId = directory({ userFilter: '(uid={username})', userIdAttribute: 'mail' });
    await expect(mailAsId.authenticate('bob', 'bob-password')).resolves.toEqual({ userId: 'bob@authz.test' });
  });

  it('refuses a login that matches more than one entry instead of guessing', async () => {
    const warnings: string[] = [];
    const loose = new LdapDirectory({ url, baseDn: people, userFilter: '(|(uid={username})(objectClass=inetOrgPerson))' }, (_, m) => warnings.push(m));
    await expect(loose.authenticate('alice', 'alice-password')).resolves.toBeNull();
    expect(warnings.join('\n')).toMatch(/more than one entry/);
  });

  it('rejects with a clear error when the service account is refused (a configuration problem, not the user\'s)', async () => {
    const misconfigured = directory({ bindDn, bindPassword: 'not-the-password' });
    const err = await misconfigured.authenticate('alice', 'alice-password').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectoryUnavailableError);
    expect((err as Error).message).toMatch(/refused the service account cn=authz-reader.*result 49/);
    expect((err as Error).message).not.toContain('not-the-password');
  });

  it('rejects with a clear error, quickly, when the directory is down', async () => {
    const down = directory({ url: `ldap://127.0.0.1:${await closedPort()}`, timeoutMs: 1000 });
    const started = Date.now();
    const err = await down.authenticate('alice', 'alice-password').catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(err).toBeInstanceOf(DirectoryUnavailableError);
    expect((err as Error).message).toMatch(/^LDAP directory ldap:\/\/127\.0\.0\.1:\d+ is unavailable: .*ECONNREFUSED/);
    expect((err as Error).message).not.toMatch(/\n|alice-password|at .*\.ts/);
    // An empty password is refused before the directory is asked.
    await expect(down.authenticate('alice', '')).resolves.toBeNull();
  });

  describe('a directory that accepts connections but never answers', () => {
    let server: Server;
    const sockets = new Set<Socket>();
    beforeAll(async () => {
      server = createServer((socket) => {
        socket.resume(); // read and drop the requests, or the client's FIN is never seen
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it.each([
      ['anonymously', {}],
      ['as the service account', { bindDn, bindPassword }],
    ])('rejects within the timeout (%s) and closes its connection', async (_, account: Partial<LdapDirectoryConfig>) => {
      const { port } = server.address() as { port: number };
      const hung = directory({ url: `ldap://127.0.0.1:${port}`, timeoutMs: 500, ...account });
      const started = Date.now();
      const err = await hung.authenticate('alice', 'alice-password').catch((e: unknown) => e);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(450);
      expect(elapsed).toBeLessThan(1500);
      expect(err).toBeInstanceOf(DirectoryUnavailableError);
      expect((err as Error).message).toMatch(/is unavailable: .*(timed out|no answer within 500 ms)/);
      for (let i = 0; i < 20 && sockets.size > 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(sockets.size).toBe(0);
    });
  });
});
