import { Controller, Get, HttpCode, HttpStatus, Param, Post, Req, ServiceUnavailableException, UseGuards } from '@nestjs/common';
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
  async regenerate(@Param('kind') kind: string, @Req() req: AuthenticatedRequest) {
    const result = await this.commandBus.execute(new RegenerateKeyCommand(kindOf(kind), requestContext(req)));
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
