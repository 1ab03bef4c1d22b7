export * from './errors';
export * from './aggregate-root';
export * from './parameters/enterprise-parameters';
export * from './users/user';
export * from './keys/key-ring';
export * from './clients/client';
export * from './grants/authorization-code';
export * from './grants/refresh-grant';
