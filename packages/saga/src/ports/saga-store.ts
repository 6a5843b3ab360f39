import type { HistoryEntry, SagaInstance } from '../saga-instance';

/** A saga type and definition version the engine has registered (as `SagaEngine.registered()` lists them). */
export interface RegisteredDefinition {
  readonly type: string;
  readonly version: number;
}

/** A history entry with the saga it belongs to, as stores write it. */
export interface SagaHistoryRecord extends HistoryEntry {
  readonly sagaId: string;
}

/** An instance to write back, guarded by the version it had when loaded. */
export interface SagaUpdate {
  readonly instance: SagaInstance;
  readonly expectedVersion: number;
}

/**
 * Thrown by a store when an update finds another version than expected, or an insert finds the id
 * taken: someone else changed the saga. The caller rolls back and retries the whole batch.
 *
 * @example
 * if (res.rowCount !== updates.length) throw new SagaConflictError('saga instance changed concurrently');
 */
export class SagaConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SagaConflictError';
  }
}

/** What one unit of work changes: new instances, changed instances, history entries. */
export interface SagaChanges {
  readonly inserts: readonly SagaInstance[];
  readonly updates: readonly SagaUpdate[];
  readonly history: readonly SagaHistoryRecord[];
}

/**
 * Persistence port of the saga runner. Every method runs inside the caller's unit of work `Tx`
 * (a database transaction in production), so instances, history and the outgoing commands (outbox)
 * commit together. Batch-shaped: one read and one write per unit of work, whatever the batch size
 * (every round trip of a batch is paid on the orchestrator's serial path: ADR 10).
 *
 * @example
 * await db.transaction(async (tx) => {
 *   const loaded = await store.loadForUpdate(tx, ['o-1', 'o-2']);
 *   // ...apply transitions...
 *   await store.save(tx, { inserts: [], updates: [{ instance: next, expectedVersion: loaded[0].version }], history });
 * });
 */
export interface SagaStore<Tx> {
  /** The existing instances among `ids`, locked until `tx` ends (unknown ids are left out). */
  loadForUpdate(tx: Tx, ids: readonly string[]): Promise<SagaInstance[]>;
  /**
   * Up to `limit` instances whose `deadlineAt <= now`, locked, skipping ones another transaction
   * holds (so several pollers can run), soonest deadline first. Only instances whose type and
   * `definitionVersion` are among `registered`: a saga whose version is missing keeps its timer
   * until the version is back (and never starves the others).
   */
  claimDue(tx: Tx, now: Date, limit: number, registered: readonly RegisteredDefinition[]): Promise<SagaInstance[]>;
  /**
   * Inserts the new instances, writes back the changed ones and appends the history, at once.
   * Throws {@link SagaConflictError} if an inserted id exists or an updated version is not the
   * expected one (the caller's unit of work then rolls back).
   */
  save(tx: Tx, changes: SagaChanges): Promise<void>;
}
