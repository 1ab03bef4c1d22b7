import { ChangeParametersHandler } from './parameters/change-parameters/change-parameters.handler';
import { GetParameterHistoryHandler, GetParametersHandler } from './parameters/get-parameters/get-parameters.handler';
import { RegisterUserHandler } from './users/register-user/register-user.handler';
import { VerifyCredentialsHandler } from './users/verify-credentials/verify-credentials.handler';
import { InitializeClusterHandler } from './keys/initialize-cluster/initialize-cluster.handler';
import { RegenerateKeyHandler } from './keys/regenerate-key/regenerate-key.handler';
import { GetClusterKeysHandler, GetKeyRingHandler } from './keys/get-keys/get-keys.handler';
import { RegisterClientHandler } from './clients/register-client/register-client.handler';
import { ClientCredentialsGrantHandler } from './tokens/client-credentials/client-credentials.handler';
import { IntrospectTokenHandler } from './tokens/introspect/introspect.handler';
import { AuthorizeHandler } from './authorize/authorize.handler';
import { AuthorizationCodeGrantHandler } from './tokens/authorization-code/authorization-code.handler';
import { RefreshTokenGrantHandler } from './tokens/refresh/refresh-token.handler';
import { RevokeTokenHandler } from './tokens/revoke/revoke-token.handler';
import { ClientAuthenticator } from './clients/authenticate-client/authenticate-client';
import { ListClientsHandler } from './clients/list-clients/list-clients.handler';
import { RevokeUserTokensHandler } from './tokens/revoke-user-tokens/revoke-user-tokens.handler';
import { ListRefreshTokensHandler } from './tokens/list-refresh-tokens/list-refresh-tokens.handler';
import { ListAuditHandler } from './audit/list-audit/list-audit.handler';
import { PurgeExpiredTokensHandler } from './maintenance/purge-expired/purge-expired.handler';

/** Every command and query handler and what they share; the ports they inject are bound by the runtime. */
export const APPLICATION_HANDLERS = [
  ChangeParametersHandler,
  GetParametersHandler,
  GetParameterHistoryHandler,
  RegisterUserHandler,
  VerifyCredentialsHandler,
  InitializeClusterHandler,
  RegenerateKeyHandler,
  GetKeyRingHandler,
  GetClusterKeysHandler,
  RegisterClientHandler,
  ClientCredentialsGrantHandler,
  IntrospectTokenHandler,
  AuthorizeHandler,
  AuthorizationCodeGrantHandler,
  RefreshTokenGrantHandler,
  RevokeTokenHandler,
  ClientAuthenticator,
  ListClientsHandler,
  RevokeUserTokensHandler,
  ListRefreshTokensHandler,
  ListAuditHandler,
  PurgeExpiredTokensHandler,
];
