export * from './envelope';
export * from './streams';
export * from './registry';
export * from './parameters.events';
export * from './user.events';
export * from './keyring.events';
export * from './client.events';
export * from './token.events';
