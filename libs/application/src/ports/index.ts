export * from './event-store.port';
export * from './event-transport.port';
export * from './read-models.port';
export * from './credentials.port';
export * from './keys.port';
export * from './tokens.port';
export * from './directory.port';
export * from './purge.port';
