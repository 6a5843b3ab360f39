/**
 * The smallest SQL port the services need: a query, and a transaction around several.
 * `pg` implements it here; PGlite can implement it for the embedded mode.
 *
 * @example
 * await db.transaction(async (tx) => {
 *   await tx.query('UPDATE products SET available = available - $1 WHERE id = $2', [1, 'P001']);
 * });
 */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number | null;
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/**
 * The statements of one transaction. Besides `query`, `queue` sends a statement whose result the
 * caller does not wait for: on a pipelined connection it travels with the statements around it,
 * so writes that nothing reads back cost no round trip of their own (ADR 10, sixth addendum).
 * Statements run in the order they were sent, queued or not.
 *
 * @example
 * await db.transaction(async (tx) => {
 *   const { rows } = await tx.query('SELECT id, available FROM products WHERE id = ANY($1) FOR UPDATE', [ids]);
 *   tx.queue('UPDATE products SET available = available - 1 WHERE id = $1', [rows[0].id]);
 *   tx.queue('INSERT INTO reservations (order_id) VALUES ($1)', [orderId]);
 *   await tx.query('INSERT INTO outbox ...', [...]);   // one round trip for the three
 * });
 */
export interface Transaction extends Queryable {
  /**
   * Sends `sql` now without waiting for its result. The transaction waits for every queued
   * statement before it commits: if one failed, or its `check` threw (e.g. a row count that says
   * another transaction got there first), the transaction rolls back and rejects with that error
   * (not with the errors of the statements after it, which fail only because it did). `failed`
   * turns the statement's own error into the one to reject with (e.g. a unique violation into a
   * domain error).
   */
  queue<R = Record<string, unknown>>(sql: string, params?: readonly unknown[], check?: (result: QueryResult<R>) => void, failed?: (err: unknown) => unknown): void;
}

/**
 * The statements a transaction queued, for the {@link Database} implementations: each one's result
 * goes through its `check`, its error through `failed`; the transaction waits for `settled()`
 * before COMMIT, and on a failure rejects with `firstFailure()` rather than with a later statement's
 * "current transaction is aborted".
 */
export class QueuedStatements {
  private readonly pending: Promise<void>[] = [];

  add<R>(result: Promise<QueryResult<R>>, check?: (result: QueryResult<R>) => void, failed?: (err: unknown) => unknown): void {
    const done = result.then(
      (res) => check?.(res),
      (err: unknown) => {
        throw failed ? failed(err) : err;
      },
    );
    done.catch(() => undefined);
    this.pending.push(done);
  }

  /** Resolves once every queued statement succeeded; rejects at the first failure. */
  async settled(): Promise<void> {
    await Promise.all(this.pending);
  }

  /** The first failure in queue order once all settled; undefined when every one succeeded. */
  async firstFailure(): Promise<unknown> {
    for (const r of await Promise.allSettled(this.pending)) if (r.status === 'rejected') return r.reason;
    return undefined;
  }
}

export interface Database extends Queryable {
  /**
   * Runs `fn` in one transaction (READ COMMITTED); commits on return once every queued statement
   * succeeded, rolls back on throw or on a failed queued statement.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
