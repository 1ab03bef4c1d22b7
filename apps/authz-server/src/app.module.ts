import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CqrsModule, QueryBus } from '@nestjs/cqrs';
import { APPLICATION_HANDLERS, USER_DIRECTORY } from '@authz/application';
import { HealthController, HttpErrorFilter, LdapDirectory, LocalDirectory, MetricsController, loadLdapConfig, type Log, type Runtime } from '@authz/runtime';
import { RolesGuard } from './http/admin.guard';
import { ParametersController } from './http/parameters.controller';
import { UsersController } from './http/users.controller';
import { KeyDistributionController, KeysController } from './http/keys.controller';
import { ClientsController, OAuthController } from './http/oauth.controller';
import { AuthorizeController } from './http/authorize.controller';
import { DiscoveryController } from './http/discovery.controller';
import { AuditController, RefreshTokensController, SsospRevokeController } from './http/refresh-tokens.controller';
import { PurgeController } from './http/purge.controller';
import { ReplayController } from './http/replay.controller';

@Module({})
export class AuthzServerModule {
  static with(runtime: Runtime, log: Log): DynamicModule {
    return {
      module: AuthzServerModule,
      imports: [CqrsModule.forRoot()],
      controllers: [
        HealthController, MetricsController, ParametersController, UsersController, KeysController, KeyDistributionController, OAuthController, ClientsController, AuthorizeController, DiscoveryController,
        RefreshTokensController, SsospRevokeController, AuditController, PurgeController, ReplayController,
      ],
      providers: [
        ...runtime.providers(),
        ...APPLICATION_HANDLERS,
        RolesGuard,
        {
          provide: USER_DIRECTORY,
          useFactory: (queryBus: QueryBus) =>
            runtime.config.directory === 'ldap' ? new LdapDirectory(loadLdapConfig(), log) : new LocalDirectory(queryBus),
          inject: [QueryBus],
        },
        { provide: APP_FILTER, useValue: new HttpErrorFilter(log) },
      ],
    };
  }
}
