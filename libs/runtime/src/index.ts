export * from './config';
export * from './password-hasher';
export * from './runtime';
export * from './logger';
export * from './health.controller';
export * from './http-errors';
export * from './keys/kek';
export * from './keys/key-factory';
