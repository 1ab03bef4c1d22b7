export * from './database';
export * from './postgres-event-store';
export * from './credential-store';
export * from './outbox-relay';
export * from './migrations/1700000000000-event-store';
export * from './migrations/1700000000005-token-index';
export * from './refresh-grant-history';
export * from './migrations/1700000000009-events-by-category';
