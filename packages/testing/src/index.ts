export * from './eventually';
export * from './private-topics';
