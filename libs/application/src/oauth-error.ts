/** An OAuth 2.0 error response (RFC 6749 §5.2, RFC 7009, RFC 7662): `error` is the RFC's code. */
export class OAuthError extends Error {
  constructor(
    readonly error:
      | 'invalid_request'
      | 'invalid_client'
      | 'invalid_grant'
      | 'unauthorized_client'
      | 'unsupported_grant_type'
      | 'invalid_scope'
      | 'unsupported_token_type'
      | 'temporarily_unavailable',
    readonly description: string,
    readonly status = error === 'invalid_client' ? 401 : error === 'temporarily_unavailable' ? 503 : 400,
  ) {
    super(description);
    this.name = 'OAuthError';
  }
}
