import { ChangeParametersHandler } from './parameters/change-parameters/change-parameters.handler';
import { GetParameterHistoryHandler, GetParametersHandler } from './parameters/get-parameters/get-parameters.handler';
import { RegisterUserHandler } from './users/register-user/register-user.handler';
import { VerifyCredentialsHandler } from './users/verify-credentials/verify-credentials.handler';

/** Every command and query handler; the ports they inject are bound by the runtime. */
export const APPLICATION_HANDLERS = [
  ChangeParametersHandler,
  GetParametersHandler,
  GetParameterHistoryHandler,
  RegisterUserHandler,
  VerifyCredentialsHandler,
];
