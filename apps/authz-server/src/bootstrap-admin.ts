import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandBus } from '@nestjs/cqrs';
import { streamId } from '@authz/contracts';
import { DomainError } from '@authz/domain';
import { RegisterUserCommand } from '@authz/application';
import type { Log, Runtime } from '@authz/runtime';

export interface AdminAccount {
  user: string;
  /** Where the generated password was written (embedded mode, no AUTHZ_ADMIN_PASSWORD). */
  passwordFile?: string;
  created: boolean;
}

/**
 * Creates the first admin account at the cluster's first start, from AUTHZ_ADMIN_USER /
 * AUTHZ_ADMIN_PASSWORD. Embedded mode without them makes `admin` with a random password in
 * a 0600 file of the data directory. An existing account is never changed.
 */
export async function bootstrapAdmin(runtime: Runtime, commandBus: CommandBus, log: Log): Promise<AdminAccount | null> {
  const { config } = runtime;
  let user = config.adminUser;
  let password = config.adminPassword;
  let passwordFile: string | undefined;
  if (!user && config.mode === 'embedded') {
    user = 'admin';
    passwordFile = join(config.dataDir, 'admin-password');
    if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString('base64url') + '\n', { mode: 0o600 });
    password = readFileSync(passwordFile, 'utf8').trim();
  }
  if (!user) {
    log('warn', 'no AUTHZ_ADMIN_USER: no admin account is created at start');
    return null;
  }
  const existing = await runtime.store.readStream(streamId('user', user));
  if (existing.length > 0) return { user, passwordFile, created: false };
  if (!password) {
    log('warn', `AUTHZ_ADMIN_USER=${user} has no AUTHZ_ADMIN_PASSWORD: the admin account is not created`);
    return null;
  }
  try {
    await commandBus.execute(
      new RegisterUserCommand(user, password, ['admin'], { actor: `system:${config.nodeId}`, correlationId: 'bootstrap' }),
    );
    log('info', `created the admin account "${user}"`);
    return { user, passwordFile, created: true };
  } catch (error) {
    // Another node starting at the same moment created it first.
    if (error instanceof DomainError && ['USER_EXISTS', 'CONCURRENCY_CONFLICT'].includes(error.code)) {
      return { user, passwordFile, created: false };
    }
    throw error;
  }
}
