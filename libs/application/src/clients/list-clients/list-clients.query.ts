import { Query } from '@nestjs/cqrs';
import type { ClientView } from '../../ports';

export class ListClientsQuery extends Query<{ clients: ClientView[]; nextCursor: string | null }> {
  constructor(
    readonly cursor: string | undefined,
    readonly limit: number,
  ) {
    super();
  }
}
