export * from './codec';
export * from './in-process-transport';
export * from './kafka-transport';
