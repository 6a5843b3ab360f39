/**
 * Time source of the saga runner, so tests can move time by hand.
 *
 * @example
 * const clock: Clock = { now: () => new Date() };
 */
export interface Clock {
  now(): Date;
}

/** The wall clock. */
export const SYSTEM_CLOCK: Clock = { now: () => new Date() };
