import type { InMemorySagaTx } from '../in-memory/in-memory-saga-store';
import { SagaEngine, type SagaEngineOptions, type SagaEvent, type SagaEventOutcome } from '../saga-engine';

/**
 * What the simulation needs of an engine: the two entry points of {@link SagaEngine}. A test can
 * hand the simulation a broken engine through an {@link EngineFactory} and check that it is caught.
 *
 * @example
 * const engine: SimulatedEngine = new SagaEngine({ store, definitions, clock, ids });
 */
export interface SimulatedEngine {
  apply(tx: InMemorySagaTx, events: readonly SagaEvent[]): Promise<SagaEventOutcome[]>;
  fireDueTimers(tx: InMemorySagaTx, limit?: number): Promise<SagaEventOutcome[]>;
}

/**
 * Builds an engine over the simulation's store, clock and id generator; called at the start of a
 * seed and again after every simulated crash (the engine is dropped and rebuilt, its state is
 * whatever the store committed).
 *
 * @example
 * // an engine that compensates timed-out steps even without compensateOnTimeout
 * const broken: EngineFactory = (o) => new SagaEngine({ ...o, definitions: o.definitions.map(alwaysCompensateOnTimeout) });
 */
export type EngineFactory = (options: SagaEngineOptions<InMemorySagaTx>) => SimulatedEngine;

/** The real engine. */
export const SAGA_ENGINE_FACTORY: EngineFactory = (options) => new SagaEngine(options);
