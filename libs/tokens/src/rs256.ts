import { constants, sign, verify, type KeyObject } from 'node:crypto';

/**
 * RS256 on node:crypto's asynchronous path: the RSA work runs on the libuv thread pool, so a
 * single event loop keeps every core busy. jose reaches the same OpenSSL calls through
 * WebCrypto, at about three times the cost per call on the event loop.
 */
const PKCS1 = constants.RSA_PKCS1_PADDING;

export function signRs256(signingInput: string, privateKey: KeyObject): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    sign('sha256', Buffer.from(signingInput, 'latin1'), { key: privateKey, padding: PKCS1 }, (error, signature) =>
      error ? reject(error) : resolve(signature),
    );
  });
}

/** `inline` verifies on the calling thread: no hand-off, but the event loop waits ~25 µs. */
export function verifyRs256(signingInput: string, signature: Buffer, publicKey: KeyObject, inline = false): Promise<boolean> | boolean {
  if (publicKey.asymmetricKeyType !== 'rsa') return false;
  const data = Buffer.from(signingInput, 'latin1');
  const key = { key: publicKey, padding: PKCS1 };
  if (inline) return verify('sha256', data, key, signature);
  return new Promise((resolve, reject) => {
    verify('sha256', data, key, signature, (error, valid) => (error ? reject(error) : resolve(valid)));
  });
}
