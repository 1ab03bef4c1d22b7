import { Query } from '@nestjs/cqrs';
import type { ClientCredentials } from '../../clients/authenticate-client/authenticate-client';

export type IntrospectionResponse = { active: false } | ({ active: true; token_type: 'Bearer' } & Record<string, unknown>);

/** RFC 7662, for confidential clients (resource servers). */
export class IntrospectTokenQuery extends Query<IntrospectionResponse> {
  constructor(
    readonly caller: ClientCredentials,
    readonly token: string,
  ) {
    super();
  }
}
