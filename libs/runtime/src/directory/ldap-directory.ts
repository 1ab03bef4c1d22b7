import { Client, FilterParser, InvalidCredentialsError, ResultCodeError, SizeLimitExceededError, type Entry } from 'ldapts';
import type { UserDirectory } from '@authz/application';
import { ConfigError } from '../config';
import type { Log } from '../runtime';

export interface LdapDirectoryConfig {
  /** `ldap://host:port` or `ldaps://host:port`. */
  url: string;
  /** Where users are searched (whole subtree), e.g. `ou=people,dc=example,dc=com`. */
  baseDn: string;
  /** The service account to search as; without it the search is anonymous. */
  bindDn?: string;
  bindPassword?: string;
  /** An RFC 4515 filter; every `{username}` becomes the escaped username. Default `(uid={username})`. */
  userFilter?: string;
  /** The attribute whose value is the user id we return. Default `uid`. */
  userIdAttribute?: string;
  /** Limit for the connection and each operation, and for the whole login. Default 3000. */
  timeoutMs?: number;
}

export const LDAP_DEFAULT_USER_FILTER = '(uid={username})';
export const LDAP_DEFAULT_TIMEOUT_MS = 3000;

/**
 * The directory could not answer (down, unreachable, too slow, or refusing the service
 * account): not the user's fault. Callers map it to `temporarily_unavailable`; the message
 * names the directory and the reason, for logs, and never holds a password.
 */
export class DirectoryUnavailableError extends Error {
  override readonly name = 'DirectoryUnavailableError';
}

/** RFC 4515 §3: a value in a filter has `*`, `(`, `)`, `\` and NUL escaped as `\XX`. */
export function escapeLdapFilterValue(value: string): string {
  return value.replace(/[*()\\\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Bind results that mean "this user cannot log in with this password", not "the directory is broken". */
const USER_REFUSED = new Set([
  48, // inappropriateAuthentication: e.g. an entry without userPassword
  49, // invalidCredentials
  53, // unwillingToPerform: e.g. a disabled account or an unauthenticated bind
]);

/**
 * End users in an LDAP directory (Active Directory, OpenLDAP, …), by search and simple bind:
 * find the one entry that matches the user filter (as the service account, or anonymously),
 * then bind as that entry's DN with the given password. One connection per login.
 */
export class LdapDirectory implements UserDirectory {
  readonly name = 'ldap' as const;
  private readonly userFilter: string;
  private readonly userIdAttribute: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly config: LdapDirectoryConfig,
    private readonly log?: Log,
  ) {
    this.userFilter = config.userFilter ?? LDAP_DEFAULT_USER_FILTER;
    this.userIdAttribute = config.userIdAttribute ?? 'uid';
    this.timeoutMs = config.timeoutMs ?? LDAP_DEFAULT_TIMEOUT_MS;
  }

  async authenticate(username: string, password: string): Promise<{ userId: string } | null> {
    // An empty password makes a simple bind "unauthenticated" (RFC 4513 §5.1.2), which many
    // directories answer with success: never ask. Oversized input is nobody's login either.
    if (!username || !password || username.length > 256 || password.length > 1024) return null;

    const client = new Client({ url: this.config.url, timeout: this.timeoutMs, connectTimeout: this.timeoutMs });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      return await Promise.race([this.login(client, username, password), deadline]);
    } catch (err) {
      if (err instanceof DirectoryUnavailableError) throw err;
      throw this.unavailable(err);
    } finally {
      clearTimeout(timer);
      // Not awaited: the answer is known. Also closes a connection still waiting after the deadline.
      void client.unbind().catch(() => undefined);
    }
  }

  private async login(client: Client, username: string, password: string): Promise<{ userId: string } | null> {
    if (this.config.bindDn) {
      try {
        await client.bind(this.config.bindDn, this.config.bindPassword ?? '');
      } catch (err) {
        if (err instanceof ResultCodeError) {
          throw new DirectoryUnavailableError(
            `LDAP directory ${this.config.url} refused the service account ${this.config.bindDn} ` +
              `(result ${err.code}: ${err.message}); check AUTHZ_LDAP_BIND_DN and AUTHZ_LDAP_BIND_PASSWORD`,
            { cause: err },
          );
        }
        throw err;
      }
    }

    const entry = await this.findUser(client, username);
    if (!entry) return null;
    const userId = firstValue(entry[this.userIdAttribute]);
    if (!userId) {
      this.log?.('warn', `LDAP entry ${entry.dn} has no ${this.userIdAttribute}; it cannot log in`);
      return null;
    }

    try {
      await client.bind(entry.dn, password);
    } catch (err) {
      if (err instanceof InvalidCredentialsError) return null;
      if (err instanceof ResultCodeError && USER_REFUSED.has(err.code)) return null;
      throw err;
    }
    return { userId };
  }

  private async findUser(client: Client, username: string): Promise<Entry | undefined> {
    const filter = this.userFilter.replaceAll('{username}', escapeLdapFilterValue(username));
    try {
      const { searchEntries } = await client.search(this.config.baseDn, {
        scope: 'sub',
        filter,
        attributes: [this.userIdAttribute],
        sizeLimit: 2,
        timeLimit: Math.max(1, Math.ceil(this.timeoutMs / 1000)),
      });
      if (searchEntries.length === 1) return searchEntries[0];
      if (searchEntries.length > 1) this.ambiguous();
      return undefined;
    } catch (err) {
      if (err instanceof SizeLimitExceededError) {
        this.ambiguous();
        return undefined;
      }
      throw err;
    }
  }

  /** Two entries for one login name: refuse it rather than guess whose password was meant. */
  private ambiguous(): void {
    this.log?.('warn', `LDAP user filter ${this.userFilter} matches more than one entry under ${this.config.baseDn}; login refused`);
  }

  private unavailable(err: unknown): DirectoryUnavailableError {
    const reason = err instanceof ResultCodeError ? `result ${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
    // ldapts puts the message type on a first line ("Socket error. Message type: …"); keep the reason.
    const short = reason.split('\n').filter(Boolean).pop() ?? reason;
    return new DirectoryUnavailableError(`LDAP directory ${this.config.url} is unavailable: ${short}`, { cause: err });
  }
}

function firstValue(value: Entry[string] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return typeof first === 'string' ? first : first.toString('utf8');
}

/** Why a filter is not one RFC 4515 filter, or undefined. ldapts's parser lets e.g. "(&(uid=x)" through. */
function filterProblem(filter: string): string | undefined {
  // Raw parentheses are always structure: in a value they must be written \28 and \29.
  let depth = 0;
  for (let i = 0; i < filter.length; i++) {
    if (filter[i] === '(') depth++;
    else if (filter[i] === ')') depth--;
    if (depth < 0) return 'unbalanced parentheses';
    if (depth === 0 && i < filter.length - 1) return 'more than one filter, or text after the filter';
  }
  if (depth !== 0) return 'unbalanced parentheses';
  try {
    FilterParser.parseString(filter);
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

/**
 * The LDAP directory's settings from the environment:
 * `AUTHZ_LDAP_URL`, `AUTHZ_LDAP_BASE_DN` (both required), `AUTHZ_LDAP_BIND_DN` and
 * `AUTHZ_LDAP_BIND_PASSWORD` (together or not at all), `AUTHZ_LDAP_USER_FILTER`
 * (default `(uid={username})`), `AUTHZ_LDAP_USER_ID_ATTRIBUTE` (default `uid`),
 * `AUTHZ_LDAP_TIMEOUT_MS` (default 3000).
 */
export function loadLdapConfig(env: NodeJS.ProcessEnv = process.env): LdapDirectoryConfig {
  const url = env.AUTHZ_LDAP_URL?.trim();
  const baseDn = env.AUTHZ_LDAP_BASE_DN?.trim();
  if (!url) throw new ConfigError('AUTHZ_LDAP_URL is required for the LDAP directory (e.g. ldap://ldap.example.com:389)');
  if (!/^ldaps?:\/\/[^/\s]+\/?$/i.test(url)) {
    throw new ConfigError(`AUTHZ_LDAP_URL must be ldap://host[:port] or ldaps://host[:port], not "${url}"`);
  }
  if (!baseDn) throw new ConfigError('AUTHZ_LDAP_BASE_DN is required for the LDAP directory (e.g. ou=people,dc=example,dc=com)');

  const bindDn = env.AUTHZ_LDAP_BIND_DN?.trim() || undefined;
  const bindPassword = env.AUTHZ_LDAP_BIND_PASSWORD || undefined;
  if (bindDn && !bindPassword) {
    throw new ConfigError('AUTHZ_LDAP_BIND_DN is set but AUTHZ_LDAP_BIND_PASSWORD is empty (a bind without a password is anonymous)');
  }
  if (bindPassword && !bindDn) throw new ConfigError('AUTHZ_LDAP_BIND_PASSWORD is set but AUTHZ_LDAP_BIND_DN is not');

  const userFilter = env.AUTHZ_LDAP_USER_FILTER?.trim() || LDAP_DEFAULT_USER_FILTER;
  if (!userFilter.includes('{username}') || !userFilter.startsWith('(') || !userFilter.endsWith(')')) {
    throw new ConfigError(`AUTHZ_LDAP_USER_FILTER must be a parenthesised LDAP filter containing {username}, not "${userFilter}"`);
  }
  const problem = filterProblem(userFilter.replaceAll('{username}', 'x'));
  if (problem) throw new ConfigError(`AUTHZ_LDAP_USER_FILTER is not a valid LDAP filter: "${userFilter}" (${problem})`);
  const userIdAttribute = env.AUTHZ_LDAP_USER_ID_ATTRIBUTE?.trim() || 'uid';
  if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(userIdAttribute)) {
    throw new ConfigError(`AUTHZ_LDAP_USER_ID_ATTRIBUTE must be an attribute name, not "${userIdAttribute}"`);
  }

  const rawTimeout = env.AUTHZ_LDAP_TIMEOUT_MS?.trim();
  const timeoutMs = rawTimeout ? Number(rawTimeout) : LDAP_DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000) {
    throw new ConfigError(`AUTHZ_LDAP_TIMEOUT_MS must be a whole number from 100 to 60000, not "${rawTimeout}"`);
  }

  return { url: url.replace(/\/$/, ''), baseDn, bindDn, bindPassword, userFilter, userIdAttribute, timeoutMs };
}
