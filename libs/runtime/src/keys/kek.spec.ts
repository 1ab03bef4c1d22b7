import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../config';
import { KekMismatchError, loadKek, unwrapKey, wrapKey } from './kek';

describe('key-encryption key', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'kek-'));

  it('wraps and unwraps key material bound to its kid', () => {
    const kek = loadKek({ AUTHZ_KEK: randomBytes(32).toString('base64') }, 'cluster', dir());
    const material = randomBytes(32);
    const wrapped = wrapKey(kek, 'c:1', material);
    expect(wrapped.ciphertext).not.toContain(material.toString('base64url'));
    expect(unwrapKey(kek, 'c:1', wrapped)).toEqual(material);
    expect(() => unwrapKey(kek, 'c:2', wrapped)).toThrow();
    // Another first character, whatever it was (replacing it with a fixed one left it unchanged one time in 64).
    const first = wrapped.ciphertext[0] === 'x' ? 'y' : 'x';
    const tampered = { ...wrapped, ciphertext: first + wrapped.ciphertext.slice(1) };
    expect(() => unwrapKey(kek, 'c:1', tampered)).toThrow();
  });

  it('tells a node that holds another KEK', () => {
    const a = loadKek({ AUTHZ_KEK: randomBytes(32).toString('hex') }, 'cluster', dir());
    const b = loadKek({ AUTHZ_KEK: randomBytes(32).toString('hex') }, 'cluster', dir());
    expect(() => unwrapKey(b, 'c:1', wrapKey(a, 'c:1', randomBytes(32)))).toThrow(KekMismatchError);
  });

  it('refuses cluster mode without a KEK, and a KEK of the wrong size', () => {
    expect(() => loadKek({}, 'cluster', dir())).toThrow(ConfigError);
    expect(() => loadKek({ AUTHZ_KEK: randomBytes(16).toString('base64') }, 'cluster', dir())).toThrow('32 bytes');
    expect(() => loadKek({ AUTHZ_KEK_FILE: '/nonexistent/kek' }, 'cluster', dir())).toThrow('does not exist');
  });

  it('reads a KEK file', () => {
    const file = join(dir(), 'kek');
    const key = randomBytes(32);
    writeFileSync(file, key.toString('base64'));
    expect(loadKek({ AUTHZ_KEK_FILE: file }, 'cluster', dir()).key).toEqual(key);
  });

  it('creates one, readable by its owner only, in embedded mode, and reuses it', () => {
    const dataDir = dir();
    const first = loadKek({}, 'embedded', dataDir);
    expect(statSync(join(dataDir, 'kek')).mode & 0o777).toBe(0o600);
    expect(loadKek({}, 'embedded', dataDir).key).toEqual(first.key);
    expect(readFileSync(join(dataDir, 'kek'), 'utf8').trim()).toBe(first.key.toString('base64'));
  });
});
