import type { CredentialStore, Transaction } from '@authz/application';
import { managerOf, type Database } from './database';

// Client secrets share the table under `client:<id>`; user ids cannot contain a colon.
const clientKey = (clientId: string) => `client:${clientId}`;

export class PostgresCredentialStore implements CredentialStore {
  constructor(private readonly db: Database) {}

  async setPasswordHash(tx: Transaction, userId: string, hash: string): Promise<void> {
    await managerOf(tx).query(
      `INSERT INTO user_credentials (user_id, password_hash) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, updated_at = now()`,
      [userId, hash],
    );
  }

  async passwordHash(userId: string): Promise<string | null> {
    const [row] = await this.db.query<{ password_hash: string }>(
      'SELECT password_hash FROM user_credentials WHERE user_id = $1',
      [userId],
    );
    return row?.password_hash ?? null;
  }

  setClientSecretHash(tx: Transaction, clientId: string, hash: string): Promise<void> {
    return this.setPasswordHash(tx, clientKey(clientId), hash);
  }

  clientSecretHash(clientId: string): Promise<string | null> {
    return this.passwordHash(clientKey(clientId));
  }
}
