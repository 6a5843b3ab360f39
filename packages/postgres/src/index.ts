export * from './database';
export * from './ensure-database';
export * from './migrations';
export * from './pg-database';
