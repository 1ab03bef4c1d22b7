import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { CLIENTS_READ_MODEL, type ClientsReadModel } from '../../ports';
import { ListClientsQuery } from './list-clients.query';

@QueryHandler(ListClientsQuery)
export class ListClientsHandler implements IQueryHandler<ListClientsQuery> {
  constructor(@Inject(CLIENTS_READ_MODEL) private readonly clients: ClientsReadModel) {}

  async execute({ cursor, limit }: ListClientsQuery) {
    const page = await this.clients.list(cursor, limit + 1);
    const clients = page.slice(0, limit);
    return { clients, nextCursor: page.length > limit ? clients[clients.length - 1].clientId : null };
  }
}
