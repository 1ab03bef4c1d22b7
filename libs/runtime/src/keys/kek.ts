import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WrappedKey } from '@authz/contracts';
import { ConfigError } from '../config';

export interface Kek {
  id: string;
  key: Buffer;
  /** Where it came from, for the start-up message. */
  source: string;
}

function parseKek(text: string, origin: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new ConfigError(`${origin} must hold 32 bytes, as base64 or 64 hex digits`);
  return key;
}

function kek(key: Buffer, source: string): Kek {
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 16), key, source };
}

/**
 * The key-encryption key that wraps the cluster's private and secret keys. Cluster mode
 * takes it from AUTHZ_KEK or AUTHZ_KEK_FILE and refuses to start without it; embedded mode
 * creates one (0600) in its data directory.
 */
export function loadKek(env: NodeJS.ProcessEnv, mode: 'embedded' | 'cluster', dataDir: string): Kek {
  if (env.AUTHZ_KEK) return kek(parseKek(env.AUTHZ_KEK, 'AUTHZ_KEK'), 'AUTHZ_KEK');
  if (env.AUTHZ_KEK_FILE) {
    if (!existsSync(env.AUTHZ_KEK_FILE)) throw new ConfigError(`AUTHZ_KEK_FILE ${env.AUTHZ_KEK_FILE} does not exist`);
    return kek(parseKek(readFileSync(env.AUTHZ_KEK_FILE, 'utf8'), env.AUTHZ_KEK_FILE), env.AUTHZ_KEK_FILE);
  }
  if (mode === 'cluster') {
    throw new ConfigError('cluster mode needs the key-encryption key: set AUTHZ_KEK or AUTHZ_KEK_FILE (32 bytes, base64)');
  }
  const file = join(dataDir, 'kek');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
  return kek(parseKek(readFileSync(file, 'utf8'), file), file);
}

export function wrapKey(kek: Kek, kid: string, material: Buffer): WrappedKey {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek.key, iv).setAAD(Buffer.from(kid));
  const ciphertext = Buffer.concat([cipher.update(material), cipher.final()]);
  return {
    alg: 'A256GCM',
    kekId: kek.id,
    iv: iv.toString('base64url'),
    ciphertext: ciphertext.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
  };
}

export class KekMismatchError extends Error {}

export function unwrapKey(kek: Kek, kid: string, wrapped: WrappedKey): Buffer {
  if (wrapped.kekId !== kek.id) {
    throw new KekMismatchError(`key ${kid} is wrapped with KEK ${wrapped.kekId}, this node holds ${kek.id}`);
  }
  const decipher = createDecipheriv('aes-256-gcm', kek.key, Buffer.from(wrapped.iv, 'base64url'))
    .setAAD(Buffer.from(kid))
    .setAuthTag(Buffer.from(wrapped.tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(wrapped.ciphertext, 'base64url')), decipher.final()]);
}
