// The `@saga/saga/testing` entry point: test helpers, kept out of the runtime entry (they import node:assert).
export * from './saga-scenario';
