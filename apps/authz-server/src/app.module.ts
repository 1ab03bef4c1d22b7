import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { APPLICATION_HANDLERS } from '@authz/application';
import { HealthController, HttpErrorFilter, type Log, type Runtime } from '@authz/runtime';
import { RolesGuard } from './http/admin.guard';
import { ParametersController } from './http/parameters.controller';
import { UsersController } from './http/users.controller';
import { KeyDistributionController, KeysController } from './http/keys.controller';
import { ClientsController, OAuthController } from './http/oauth.controller';

@Module({})
export class AuthzServerModule {
  static with(runtime: Runtime, log: Log): DynamicModule {
    return {
      module: AuthzServerModule,
      imports: [CqrsModule.forRoot()],
      controllers: [HealthController, ParametersController, UsersController, KeysController, KeyDistributionController, OAuthController, ClientsController],
      providers: [
        ...runtime.providers(),
        ...APPLICATION_HANDLERS,
        RolesGuard,
        { provide: APP_FILTER, useValue: new HttpErrorFilter(log) },
      ],
    };
  }
}
