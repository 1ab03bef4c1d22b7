export {
  clusterOf,
  exportEncryptionJwk,
  exportPublicJwk,
  exportSigningPrivatePem,
  fingerprint,
  generateEncryptionKey,
  generateSigningKey,
  importEncryptionJwk,
  importEncryptionKey,
  importPublicJwk,
  importSigningKey,
  kidFor,
  type EncryptionJwk,
  type EncryptionKey,
  type PublicSigningJwk,
  type SigningKey,
  type VerificationKey,
} from './keys';
export { createKeyRing, type KeyRing } from './key-ring';
export {
  DEFAULT_CLOCK_SKEW_SECONDS,
  MAX_TOKEN_LENGTH,
  type TokenErrorCode,
  type ValidationOptions,
  type ValidationResult,
} from './validation';
export { AccessTokenCache } from './access-token-cache';
export { SignatureCache } from './signature-cache';
export {
  mintAccessToken,
  validateAccessToken,
  type AccessTokenValidationOptions,
  type AccessTokenClaims,
  type AccessTokenInput,
  type MintedAccessToken,
  type MintingKeys,
} from './access-token';
export { hashToken, mintRefreshToken, validateRefreshToken, type MintedRefreshToken, type RefreshTokenClaims } from './refresh-token';
