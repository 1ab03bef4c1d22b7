import { decodeSigned, decodeStrict, hasExactKeys, parseJsonObject, type JsonObject } from './compact';
import type { KeyRing } from './key-ring';
import { HeaderMemo } from './memo';
import type { SigningKey, VerificationKey } from './keys';
import { signRs256, verifyRs256 } from './rs256';
import { checkCompact, nowSeconds, reject, type Rejection, type ValidationOptions } from './validation';

const JWS_HEADER_KEYS = ['alg', 'typ', 'kid'];

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** The compact JWS both token types share: {"alg":"RS256","typ":"JWT","kid":…}, in that order. */
export async function signJws(payload: string, key: SigningKey): Promise<string> {
  const input = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: key.kid }))}.${b64url(payload)}`;
  return `${input}.${b64url(await signRs256(input, key.privateKey))}`;
}

export interface VerifiedJws {
  valid: true;
  payload: JsonObject;
  kid: string;
  key: VerificationKey;
  /** To call once every other check passed: lets the signature cache keep the token. */
  remember(exp: number): void;
}

const noop = () => undefined;
const headers = new HeaderMemo<string>();

/** The kid of a header pinned to exactly {"alg":"RS256","typ":"JWT","kid":…}. */
function kidOf(encodedHeader: string): string | Rejection {
  const known = headers.get(encodedHeader);
  if (known !== undefined) return known;
  const header = parseJsonObject(decodeStrict(encodedHeader));
  if (!header) return reject('malformed', 'the token header is not a JSON object');
  if (header.alg !== 'RS256') return reject('bad_signature', 'the token is not signed with RS256');
  if (!hasExactKeys(header, JWS_HEADER_KEYS) || header.typ !== 'JWT' || typeof header.kid !== 'string') {
    return reject('malformed', 'the token header is not {alg, typ: JWT, kid}');
  }
  return headers.set(encodedHeader, header.kid);
}

/**
 * The outer layer: size, alphabet, shape, a header pinned to RS256 with a current kid, then the
 * signature. The payload is read only once the signature holds.
 */
export async function verifyJws(input: unknown, keyRing: KeyRing, options: ValidationOptions): Promise<VerifiedJws | Rejection> {
  const refused = checkCompact(input);
  if (refused) return refused;
  const token = input as string;
  const parts = token.split('.');
  if (parts.length !== 3) return reject('malformed', 'the token is not a compact JWS');
  const [encodedHeader, encodedPayload, encodedSignature] = parts;
  const kid = kidOf(encodedHeader);
  if (typeof kid !== 'string') return kid;
  const key: VerificationKey | undefined = keyRing.verificationKey(kid);
  if (!key) return reject('unknown_key', 'the token is signed with a key that is not current');
  const signature = decodeStrict(encodedSignature);
  if (!signature) return reject('malformed', 'the token signature is not base64url');
  // An RSA signature is exactly as long as the modulus: anything else was cut or padded.
  if (signature.length * 8 !== key.publicKey.asymmetricKeyDetails?.modulusLength) {
    return reject('malformed', 'the token signature has the wrong length');
  }

  const cached = options.cache?.lookup(token, key, nowSeconds(options.now));
  if (cached !== true) {
    let valid = false;
    try {
      valid = await verifyRs256(token.slice(0, encodedHeader.length + 1 + encodedPayload.length), signature, key.publicKey, options.verifyInline);
    } catch {
      // node:crypto throws on some impossible signatures (e.g. above the modulus) rather than say false
    }
    if (!valid) return reject('bad_signature', 'the token signature does not match');
  }
  const payload = parseJsonObject(decodeSigned(encodedPayload));
  if (!payload) return reject('malformed', 'the token payload is not a JSON object');
  const remember = typeof cached === 'string' ? (exp: number) => options.cache?.add(cached, key, exp) : noop;
  return { valid: true, payload, kid, key, remember };
}
