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
 * The first error among queued statements, once they settled; undefined when all succeeded. A
 * transaction rejects with it rather than with a later statement's "current transaction is aborted".
 */
export async function firstQueuedFailure(queued: readonly Promise<void>[]): Promise<unknown> {
  for (const r of await Promise.allSettled(queued)) if (r.status === 'rejected') return r.reason;
  return undefined;
}

export interface Database extends Queryable {
  /**
   * Runs `fn` in one transaction (READ COMMITTED); commits on return once every queued statement
   * succeeded, rolls back on throw or on a failed queued statement.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
