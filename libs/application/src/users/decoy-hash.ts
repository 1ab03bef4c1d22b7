import type { PasswordHasher } from '../ports';

const decoys = new WeakMap<PasswordHasher, Promise<string>>();

/**
 * A hash of a password nobody has, made once per hasher: checking a secret for an unknown
 * user or client against it costs the same as for a known one, so timing tells nothing.
 */
export function decoyHash(hasher: PasswordHasher): Promise<string> {
  let decoy = decoys.get(hasher);
  if (!decoy) {
    decoy = hasher.hash('not a secret anyone has');
    decoys.set(hasher, decoy);
  }
  return decoy;
}
