/**
 * Source of message ids for the commands the engine emits (UUIDv7 in the apps; the engine itself
 * stays free of randomness so transitions are repeatable in tests).
 *
 * @example
 * import { uuidv7 } from '@saga/contracts';
 * const ids: IdGenerator = { newId: uuidv7 };
 */
export interface IdGenerator {
  newId(): string;
}

/**
 * Deterministic ids `<prefix>-1`, `<prefix>-2`, … for tests.
 *
 * @example
 * const ids = sequentialIds('cmd'); ids.newId() === 'cmd-1';
 */
export function sequentialIds(prefix = 'msg'): IdGenerator {
  let n = 0;
  return { newId: () => `${prefix}-${++n}` };
}
