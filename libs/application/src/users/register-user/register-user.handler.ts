import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { streamId } from '@authz/contracts';
import { User, ValidationError, parseRoles, parseUserId } from '@authz/domain';
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
import { RegisterUserCommand } from './register-user.command';

export const MIN_PASSWORD_LENGTH = 8;
const MAX_PASSWORD_LENGTH = 1024;

@CommandHandler(RegisterUserCommand)
export class RegisterUserHandler implements ICommandHandler<RegisterUserCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(UNIT_OF_WORK) private readonly uow: UnitOfWork,
    @Inject(CREDENTIAL_STORE) private readonly credentials: CredentialStore,
    @Inject(PASSWORD_HASHER) private readonly hasher: PasswordHasher,
  ) {}

  async execute(command: RegisterUserCommand) {
    const userId = parseUserId(command.userId);
    const roles = parseRoles(command.roles ?? []);
    const password = command.password;
    if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
      throw new ValidationError('INVALID_PASSWORD', `password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`);
    }
    const stream = streamId('user', userId);
    const user = new User().loadFromHistory(await this.store.readStream(stream));
    user.register(userId, roles);
    const hash = await this.hasher.hash(password);
    await this.uow.run(async (tx) => {
      await this.store.append(stream, user.version, user.uncommittedEvents(), command.context, tx);
      await this.credentials.setPasswordHash(tx, userId, hash);
    });
    return { userId, roles: [...user.roles] };
  }
}
