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

export interface Database extends Queryable {
  /** Runs `fn` in one transaction (READ COMMITTED); commits on return, rolls back on throw. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
