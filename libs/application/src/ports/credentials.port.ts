import type { Transaction } from './event-store.port';

/** Password hashes live beside the user streams, never in an event. */
export interface CredentialStore {
  setPasswordHash(tx: Transaction, userId: string, hash: string): Promise<void>;
  passwordHash(userId: string): Promise<string | null>;
  setClientSecretHash(tx: Transaction, clientId: string, hash: string): Promise<void>;
  clientSecretHash(clientId: string): Promise<string | null>;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
}

export const CREDENTIAL_STORE = Symbol('CredentialStore');
export const PASSWORD_HASHER = Symbol('PasswordHasher');
