export * from './envelope';
export * from './errors';
export * from './messages';
export * from './money';
export * from './topics';
export * from './ids';
