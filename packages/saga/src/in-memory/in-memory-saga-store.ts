import type { HistoryEntry, SagaInstance } from '../saga-instance';
import {
  SagaConflictError,
  type RegisteredDefinition,
  type SagaChanges,
  type SagaStore,
} from '../ports/saga-store';

/** Unit of work of {@link InMemorySagaStore}: a private copy that replaces the committed state on commit. */
export interface InMemorySagaTx {
  readonly instances: Map<string, SagaInstance>;
  readonly history: Map<string, HistoryEntry[]>;
}

/**
 * A {@link SagaStore} in memory for tests and the embedded mode. Transactions run one at a time
 * (a queue) on a copy of the state that replaces it only if the function returns, so a throw rolls
 * everything back, like the database would.
 *
 * @example
 * const store = new InMemorySagaStore();
 * await store.transaction((tx) => engine.apply(tx, events));
 * store.get('o-1')?.status;
 */
export class InMemorySagaStore implements SagaStore<InMemorySagaTx> {
  private instances = new Map<string, SagaInstance>();
  private histories = new Map<string, HistoryEntry[]>();
  private queue: Promise<unknown> = Promise.resolve();

  transaction<T>(fn: (tx: InMemorySagaTx) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      const tx: InMemorySagaTx = { instances: new Map(this.instances), history: new Map(this.histories) };
      const result = await fn(tx);
      this.instances = tx.instances;
      this.histories = tx.history;
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Committed instance, if any. */
  get(id: string): SagaInstance | undefined {
    return this.instances.get(id);
  }

  /** Committed history of a saga, in order. */
  history(id: string): readonly HistoryEntry[] {
    return this.histories.get(id) ?? [];
  }

  all(): SagaInstance[] {
    return [...this.instances.values()];
  }

  async loadForUpdate(tx: InMemorySagaTx, ids: readonly string[]): Promise<SagaInstance[]> {
    return ids.flatMap((id) => tx.instances.get(id) ?? []);
  }

  /** As the port says; without `registered` (a test calling it directly) every version is claimed. */
  async claimDue(tx: InMemorySagaTx, now: Date, limit: number, registered?: readonly RegisteredDefinition[]): Promise<SagaInstance[]> {
    const known = registered && new Set(registered.map((r) => `${r.type}\u0000${r.version}`));
    return [...tx.instances.values()]
      .filter((i) => i.deadlineAt !== null && i.deadlineAt.getTime() <= now.getTime())
      .filter((i) => !known || known.has(`${i.type}\u0000${i.definitionVersion}`))
      .sort((a, b) => a.deadlineAt!.getTime() - b.deadlineAt!.getTime())
      .slice(0, limit);
  }

  /** A conflict throws, and `transaction` then drops the whole copy: nothing of the save is kept. */
  async save(tx: InMemorySagaTx, { inserts, updates, history }: SagaChanges): Promise<void> {
    for (const i of inserts) {
      if (tx.instances.has(i.id)) throw new SagaConflictError(`saga ${i.id} already exists`);
      tx.instances.set(i.id, i);
    }
    for (const { instance, expectedVersion } of updates) {
      const current = tx.instances.get(instance.id);
      if (current?.version !== expectedVersion) {
        throw new SagaConflictError(`saga ${instance.id} is at version ${current?.version}, expected ${expectedVersion}`);
      }
      tx.instances.set(instance.id, instance);
    }
    for (const { sagaId, ...entry } of history) {
      // copy on write: the committed array must not change if this transaction rolls back
      tx.history.set(sagaId, [...(tx.history.get(sagaId) ?? []), entry]);
    }
  }
}
