export {
  MAX_TOKEN_LENGTH,
  TokenValidator,
  type AccessTokenClaims,
  type ClusterStatus,
  type ServerConfig,
  type SyncResult,
  type TokenErrorCode,
  type TokenValidatorOptions,
  type ValidationResult,
} from './token-validator.js';
