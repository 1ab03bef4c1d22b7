import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query, Req, ServiceUnavailableException, UnsupportedMediaTypeException, UseGuards } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { KEY_KINDS, type KeyKind } from '@authz/contracts';
import { GetClusterKeysQuery, GetKeyRingQuery, RegenerateKeyCommand } from '@authz/application';
import { ValidationError } from '@authz/domain';
import { Runtime } from '@authz/runtime';
import { exportEncryptionJwk, exportPublicJwk } from '@authz/tokens';
import { REQUIRED_ROLES, RolesGuard, type AuthenticatedRequest } from './admin.guard';
import { requestContext } from './request-context';

function kindOf(value: string): KeyKind {
  if (!KEY_KINDS.includes(value as KeyKind)) throw new ValidationError('UNKNOWN_KEY_KIND', 'the key kind is "signing" or "encryption"');
  return value as KeyKind;
}

/**
 * The options of a regeneration: no body (or an empty JSON object) and no query for the
 * default, else `{"revokeRefreshTokens": true|false}` as JSON, or `?revokeRefreshTokens=true|false`.
 */
function regenerationOptions(body: unknown, query: Record<string, unknown>, req: AuthenticatedRequest): { revokeRefreshTokens: boolean } {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    throw new UnsupportedMediaTypeException({ error: 'invalid_request', error_description: 'send the options as application/json, or no body' });
  }
  if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) {
    throw new ValidationError('REGENERATE_NOT_AN_OBJECT', 'the body must be empty or a JSON object such as {"revokeRefreshTokens": true}');
  }
  const { revokeRefreshTokens: fromBody, ...others } = (body ?? {}) as Record<string, unknown>;
  const unknownField = Object.keys(others)[0] ?? Object.keys(query).find((name) => name !== 'revokeRefreshTokens');
  if (unknownField !== undefined) {
    throw new ValidationError('REGENERATE_UNKNOWN_FIELD', `unknown option ${JSON.stringify(unknownField.slice(0, 64))}: only revokeRefreshTokens is accepted`);
  }
  if (fromBody !== undefined && typeof fromBody !== 'boolean') throw new ValidationError('REVOKE_REFRESH_TOKENS_NOT_BOOLEAN', 'revokeRefreshTokens must be true or false');
  const fromQuery = query.revokeRefreshTokens;
  if (fromQuery !== undefined && fromQuery !== 'true' && fromQuery !== 'false') {
    throw new ValidationError('REVOKE_REFRESH_TOKENS_NOT_BOOLEAN', 'revokeRefreshTokens must be true or false');
  }
  if (fromBody !== undefined && fromQuery !== undefined && fromBody !== (fromQuery === 'true')) {
    throw new ValidationError('REVOKE_REFRESH_TOKENS_CONFLICT', 'revokeRefreshTokens says one thing in the body and another in the query');
  }
  return { revokeRefreshTokens: fromBody === true || fromQuery === 'true' };
}

/** Seed S7, S8: show the keys as hashes, regenerate them, compare the nodes. */
@Controller('admin')
@UseGuards(RolesGuard)
export class KeysController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
    private readonly runtime: Runtime,
  ) {}

  @Get('keys')
  async keys() {
    const ring = await this.queryBus.execute(new GetKeyRingQuery());
    const held = this.runtime.keys!;
    return {
      ...ring,
      node: {
        nodeId: this.runtime.config.nodeId,
        signing: held.signing?.fingerprint ?? null,
        encryption: held.encryption?.fingerprint ?? null,
      },
    };
  }

  @Post('keys/:kind/regenerate')
  @HttpCode(HttpStatus.OK)
  async regenerate(@Param('kind') kind: string, @Body() body: unknown, @Query() query: Record<string, unknown>, @Req() req: AuthenticatedRequest) {
    // Access tokens under the old key stop validating; refresh tokens keep working unless
    // revokeRefreshTokens (signing only) revokes every one issued before the regeneration.
    const options = regenerationOptions(body, query ?? {}, req);
    const result = await this.commandBus.execute(new RegenerateKeyCommand(kindOf(kind), requestContext(req), options));
    // This node uses the new key at once; the others follow through the event.
    await this.runtime.keys!.refresh();
    return result;
  }

  @Get('cluster/keys')
  cluster() {
    return this.queryBus.execute(new GetClusterKeysQuery());
  }
}

/** Key distribution (seed S15): public JWKS for anyone, both keys for resource servers with the key-reader role. */
@Controller('oauth')
export class KeyDistributionController {
  constructor(private readonly runtime: Runtime) {}

  private held() {
    const { signing, encryption } = this.runtime.keys!;
    if (!signing || !encryption) {
      throw new ServiceUnavailableException({ error: 'temporarily_unavailable', error_description: 'this node holds no keys yet' });
    }
    return { signing, encryption };
  }

  @Get('jwks')
  jwks() {
    return { keys: [exportPublicJwk(this.held().signing)] };
  }

  @Get('keys')
  @UseGuards(RolesGuard)
  @REQUIRED_ROLES(['key-reader'])
  keys() {
    const { signing, encryption } = this.held();
    return {
      issuer: this.runtime.keys!.clusterId,
      keys: [exportPublicJwk(signing), exportEncryptionJwk(encryption)],
    };
  }
}
