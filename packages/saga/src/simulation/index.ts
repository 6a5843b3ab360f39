// Seeded simulation of the saga engine: random interleavings of replies, duplicates, late replies,
// timeouts, operator actions and crashes, checked against the engine's invariants.
export * from './seeded-random';
export * from './simulated-sagas';
export * from './simulated-engine';
export * from './simulated-participants';
export * from './crashing-saga-store';
export * from './engine-invariants';
export * from './simulated-world';
export * from './engine-simulation';
