import type { InMemorySagaStore, InMemorySagaTx } from '../in-memory/in-memory-saga-store';
import type { SagaInstance } from '../saga-instance';
import type { SagaStore } from '../ports/saga-store';

/** The store calls a unit of work can crash around. */
export type StoreMethod = 'loadForUpdate' | 'claimDue' | 'save';

/** Parameters of a method of the store port. */
type StoreArgs<K extends StoreMethod> = Parameters<SagaStore<InMemorySagaTx>[K]>;

/**
 * Where a unit of work dies: just before or just after a store call, or after the engine returned
 * (while the caller would write its outbox rows) but before the commit.
 */
export type CrashPoint = { readonly method: StoreMethod; readonly when: 'before' | 'after' } | 'beforeCommit';

/** Every crash point, for the simulation to choose from. */
export const CRASH_POINTS: readonly CrashPoint[] = [
  ...(['loadForUpdate', 'claimDue', 'save'] as const).flatMap((method) =>
    (['before', 'after'] as const).map((when) => ({ method, when })),
  ),
  'beforeCommit',
];

/** The process died; thrown inside a unit of work, so the store rolls it back. */
export class SimulatedCrash extends Error {
  constructor(readonly point: CrashPoint) {
    super(`simulated crash ${describeCrashPoint(point)}`);
    this.name = 'SimulatedCrash';
  }
}

/** 'before save', 'after loadForUpdate', 'before commit'. */
export function describeCrashPoint(point: CrashPoint): string {
  return point === 'beforeCommit' ? 'before commit' : `${point.when} ${point.method}`;
}

/**
 * A {@link SagaStore} over an {@link InMemorySagaStore} that can die at one chosen point of a unit
 * of work. The crash is a throw inside `InMemorySagaStore.transaction`, which then keeps its
 * committed state: the same rollback a database gives a process that dies mid-transaction. A crash
 * point the unit of work never reaches (e.g. `save` in a batch whose replies are all stale) does not fire.
 *
 * @example
 * const store = new CrashingSagaStore(new InMemorySagaStore());
 * await store.unitOfWork({ method: 'save', when: 'after' }, (tx) => engine.apply(tx, events)); // throws SimulatedCrash
 */
export class CrashingSagaStore implements SagaStore<InMemorySagaTx> {
  private armed: CrashPoint | null = null;

  constructor(readonly committed: InMemorySagaStore) {}

  /** Runs `work` in one transaction that dies at `crashAt` (null: commits normally). */
  async unitOfWork<T>(crashAt: CrashPoint | null, work: (tx: InMemorySagaTx) => Promise<T>): Promise<T> {
    this.armed = crashAt;
    try {
      return await this.committed.transaction(async (tx) => {
        const result = await work(tx);
        this.trip('beforeCommit');
        return result;
      });
    } finally {
      this.armed = null;
    }
  }

  // Each method takes exactly the port's parameters, whatever they become, and passes them on.
  async loadForUpdate(...args: StoreArgs<'loadForUpdate'>): Promise<SagaInstance[]> {
    return this.around('loadForUpdate', () => this.committed.loadForUpdate(...args));
  }

  async claimDue(...args: StoreArgs<'claimDue'>): Promise<SagaInstance[]> {
    return this.around('claimDue', () => this.committed.claimDue(...args));
  }

  async save(...args: StoreArgs<'save'>): Promise<void> {
    return this.around('save', () => this.committed.save(...args));
  }

  private async around<T>(method: StoreMethod, call: () => Promise<T>): Promise<T> {
    this.trip({ method, when: 'before' });
    const result = await call();
    this.trip({ method, when: 'after' });
    return result;
  }

  private trip(point: CrashPoint): void {
    const armed = this.armed;
    if (armed === null) return;
    const hit =
      armed === 'beforeCommit' || point === 'beforeCommit'
        ? armed === point
        : armed.method === point.method && armed.when === point.when;
    if (!hit) return;
    this.armed = null;
    throw new SimulatedCrash(armed);
  }
}
