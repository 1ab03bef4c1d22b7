export * from './projection';
export * from './projection-runner';
export * from './parameters/parameter.entities';
export * from './parameters/parameters.projection';
export * from './parameters/parameters.read-model';
export * from './migrations/1700000000001-read-models';
