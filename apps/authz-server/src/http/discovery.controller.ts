import { Controller, Get, Inject, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { PARAMETERS_READ_MODEL, type ParametersReadModel } from '@authz/application';
import { Runtime } from '@authz/runtime';

/**
 * RFC 8414 metadata (seed S3): clients learn here whether the authorization code flow is on.
 * It lists only what this server really does. The issuer is this server's URL (RFC 8414 §2,
 * §3.3: AUTHZ_ISSUER_URL behind a proxy, else the URL it was asked on); the tokens' own `iss`
 * is the cluster id, as in CUCM, published here as `cluster_id`.
 */
@Controller('.well-known/oauth-authorization-server')
export class DiscoveryController {
  constructor(
    private readonly runtime: Runtime,
    @Inject(PARAMETERS_READ_MODEL) private readonly parameters: ParametersReadModel,
  ) {}

  @Get()
  async metadata(@Req() req: FastifyRequest) {
    const base = this.runtime.config.issuerUrl ?? `${req.protocol}://${req.host}`;
    const codeFlow = (await this.parameters.current()).values.oauthWithRefreshLoginFlow === 'Enabled';
    return {
      issuer: base,
      cluster_id: this.runtime.keys?.clusterId,
      authorization_endpoint: `${base}/oauth/authorize`,
      token_endpoint: `${base}/oauth/token`,
      revocation_endpoint: `${base}/oauth/revoke`,
      introspection_endpoint: `${base}/oauth/introspect`,
      jwks_uri: `${base}/oauth/jwks`,
      response_types_supported: codeFlow ? ['code', 'token'] : ['token'],
      response_modes_supported: codeFlow ? ['query', 'fragment'] : ['fragment'],
      grant_types_supported: codeFlow ? ['authorization_code', 'implicit', 'refresh_token', 'client_credentials'] : ['implicit', 'client_credentials'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    };
  }
}
