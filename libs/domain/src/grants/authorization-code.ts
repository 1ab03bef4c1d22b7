import { createHash, timingSafeEqual } from 'node:crypto';
import {
  AUTHORIZATION_CODE_ISSUED,
  AUTHORIZATION_CODE_REDEEMED,
  CURRENT_SCHEMA_VERSIONS,
  type AuthorizationCodeIssuedV1,
  type AuthorizationCodeRedeemedV1,
} from '@authz/contracts';
import { AggregateRoot } from '../aggregate-root';
import { DomainError } from '../errors';

const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
export const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** RFC 7636 S256: BASE64URL(SHA256(verifier)) equals the challenge. */
export function pkceMatches(verifier: string, challenge: string): boolean {
  if (!VERIFIER.test(verifier)) return false;
  const computed = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}

/** A grant error the token endpoint reports as invalid_grant. */
export class GrantError extends DomainError {}

/** An authorization code (RFC 6749 §4.1): short-lived, single use, bound to client, redirect URI and PKCE challenge. */
export class AuthorizationCode extends AggregateRoot {
  private issued?: AuthorizationCodeIssuedV1;
  private redeemed?: AuthorizationCodeRedeemedV1;

  get details(): AuthorizationCodeIssuedV1 | undefined {
    return this.issued;
  }

  /** The grant a first redemption created, when the code is presented again. */
  get redeemedAs(): AuthorizationCodeRedeemedV1 | undefined {
    return this.redeemed;
  }

  issue(details: AuthorizationCodeIssuedV1): void {
    if (this.issued) throw new DomainError('CODE_EXISTS', 'this code was issued already');
    this.raise(AUTHORIZATION_CODE_ISSUED, CURRENT_SCHEMA_VERSIONS[AUTHORIZATION_CODE_ISSUED], details);
  }

  /**
   * Redeems the code for a new grant `tid`. A code presented a second time is refused with
   * CODE_REUSED: the caller then revokes what the first redemption issued.
   */
  redeem(request: { clientId: string; redirectUri: string | undefined; codeVerifier: string | undefined; now: Date; tid: string }): void {
    const code = this.issued;
    if (!code) throw new GrantError('CODE_UNKNOWN', 'the authorization code is not valid');
    if (this.redeemed) throw new GrantError('CODE_REUSED', 'the authorization code was used already');
    if (code.clientId !== request.clientId) throw new GrantError('CODE_OF_ANOTHER_CLIENT', 'the authorization code was issued to another client');
    if (new Date(code.expiresAt) <= request.now) throw new GrantError('CODE_EXPIRED', 'the authorization code has expired');
    if (request.redirectUri !== code.redirectUri) throw new GrantError('REDIRECT_URI_MISMATCH', 'redirect_uri differs from the authorization request');
    if (code.codeChallenge) {
      if (!request.codeVerifier || !pkceMatches(request.codeVerifier, code.codeChallenge)) {
        throw new GrantError('PKCE_MISMATCH', 'code_verifier does not match the code challenge');
      }
    } else if (request.codeVerifier) {
      throw new GrantError('PKCE_UNEXPECTED', 'code_verifier given, but the authorization request had no code challenge');
    }
    this.raise<AuthorizationCodeRedeemedV1>(AUTHORIZATION_CODE_REDEEMED, CURRENT_SCHEMA_VERSIONS[AUTHORIZATION_CODE_REDEEMED], {
      clientId: code.clientId,
      userId: code.userId,
      tid: request.tid,
    });
  }

  protected onAuthorizationCodeIssued(data: AuthorizationCodeIssuedV1): void {
    this.issued = data;
  }

  protected onAuthorizationCodeRedeemed(data: AuthorizationCodeRedeemedV1): void {
    this.redeemed = data;
  }
}
