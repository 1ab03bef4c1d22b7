/** Reading compact-serialization segments. */

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function sextet(code: number): number {
  if (code >= 97) return code - 71; // a-z
  if (code >= 65) return code - 65; // A-Z
  if (code >= 48) return code + 4; // 0-9
  return code === 45 ? 62 : 63; // - _
}

/**
 * Base64url without padding, in its one canonical spelling, for what is read before or
 * outside the signed text: the header and the signature. Node's decoder skips stray
 * characters and ignores trailing bits; left alone, many strings would carry one signature,
 * and a re-spelled refresh token would dodge its stored hash.
 */
export function decodeStrict(segment: string): Buffer | undefined {
  const tail = segment.length % 4;
  if (tail === 1 || !BASE64URL.test(segment)) return undefined;
  if (tail > 1) {
    const unused = tail === 2 ? 0x0f : 0x03;
    if (sextet(segment.charCodeAt(segment.length - 1)) & unused) return undefined;
  }
  return Buffer.from(segment, 'base64url');
}

/**
 * For text the signature already covers (the payload, and the JWE inside it): only a key
 * holder can choose its characters, so the fast decoder is enough.
 */
export function decodeSigned(segment: string): Buffer {
  return Buffer.from(segment, 'base64url');
}

export type JsonObject = Record<string, unknown>;

/** Bytes holding a JSON object, nothing else. */
export function parseJsonObject(bytes: Buffer | undefined): JsonObject | undefined {
  if (!bytes?.length) return undefined;
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}

/** True when `object` has exactly these keys, so a header cannot smuggle in `crit`, `jku`, `zip` … */
export function hasExactKeys(object: JsonObject, keys: readonly string[]): boolean {
  let count = 0;
  for (const key in object) {
    if (!Object.hasOwn(object, key) || !keys.includes(key)) return false;
    count++;
  }
  return count === keys.length;
}
