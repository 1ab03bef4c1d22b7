import { createHash, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { KeyKind } from '@authz/contracts';
import type { KeyFactory } from '@authz/application';
import type { NewKey } from '@authz/domain';
import { wrapKey, type Kek } from './kek';

const generateRsa = promisify(generateKeyPair);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export function signingFingerprint(publicKey: KeyObject): string {
  return sha256(publicKey.export({ format: 'der', type: 'spki' }) as Buffer);
}

export function encryptionFingerprint(raw: Buffer): string {
  return sha256(raw);
}

/** RSA-2048 signing keys and 256-bit encryption keys, wrapped with the KEK before they leave this object. */
export class KekKeyFactory implements KeyFactory {
  constructor(private readonly kek: Kek) {}

  async generate(kind: KeyKind, clusterId: string): Promise<NewKey> {
    if (kind === 'encryption') {
      const raw = randomBytes(32);
      const fingerprint = encryptionFingerprint(raw);
      const kid = `${clusterId}:${fingerprint}`;
      return { kid, fingerprint, wrapped: wrapKey(this.kek, kid, raw) };
    }
    const { publicKey, privateKey } = await generateRsa('rsa', { modulusLength: 2048 });
    const fingerprint = signingFingerprint(publicKey);
    const kid = `${clusterId}:${fingerprint}`;
    return {
      kid,
      fingerprint,
      publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' },
      wrapped: wrapKey(this.kek, kid, privateKey.export({ format: 'der', type: 'pkcs8' }) as Buffer),
    };
  }
}
