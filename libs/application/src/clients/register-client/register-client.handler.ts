import { randomBytes, randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { streamId } from '@authz/contracts';
import { Client, ValidationError, parseClientRegistration } from '@authz/domain';
import {
  CREDENTIAL_STORE,
  EVENT_STORE,
  PASSWORD_HASHER,
  UNIT_OF_WORK,
  type CredentialStore,
  type EventStore,
  type PasswordHasher,
  type UnitOfWork,
} from '../../ports';
import { RegisterClientCommand } from './register-client.command';

@CommandHandler(RegisterClientCommand)
export class RegisterClientHandler implements ICommandHandler<RegisterClientCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(UNIT_OF_WORK) private readonly uow: UnitOfWork,
    @Inject(CREDENTIAL_STORE) private readonly credentials: CredentialStore,
    @Inject(PASSWORD_HASHER) private readonly hasher: PasswordHasher,
  ) {}

  async execute({ request, context }: RegisterClientCommand) {
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      throw new ValidationError('CLIENT_NOT_AN_OBJECT', 'the body must be a JSON object describing the client');
    }
    const registration = parseClientRegistration(request as Record<string, unknown>, randomUUID());
    const stream = streamId('client', registration.clientId);
    const client = new Client().loadFromHistory(await this.store.readStream(stream));
    client.register(registration);
    const secret = registration.type === 'confidential' ? randomBytes(32).toString('base64url') : undefined;
    const hash = secret ? await this.hasher.hash(secret) : undefined;
    await this.uow.run(async (tx) => {
      await this.store.append(stream, client.version, client.uncommittedEvents(), context, tx);
      if (hash) await this.credentials.setClientSecretHash(tx, registration.clientId, hash);
    });
    return { ...client.details!, ...(secret ? { clientSecret: secret } : {}) };
  }
}
