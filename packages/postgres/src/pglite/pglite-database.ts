import { AsyncLocalStorage } from 'node:async_hooks';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { Database, Queryable, QueryResult } from '../database';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * A {@link Database} on one schema of a shared PGlite instance. PGlite has one connection, so every
 * call runs as an exclusive transaction that first sets `search_path` to the schema (`SET LOCAL`, so
 * it ends with the transaction): a service's unqualified SQL reaches its own tables, as it would in
 * its own database. Measured: ~0.5 ms per call either way; the SET LOCAL costs ~0.1–0.3 ms.
 *
 * Calls queue in order behind the transaction in hand; a call made *inside* a transaction's callback
 * on the database (instead of on its `tx`) would wait for itself forever, so it throws instead.
 *
 * @example
 * const pg = await PGlite.create({ dataDir: '.data/embedded/pglite' });
 * const db = await PgliteDatabase.open(pg, 'order_svc');
 * await db.query('SELECT count(*) FROM orders');
 */
export class PgliteDatabase implements Database {
  private readonly inTransaction = new AsyncLocalStorage<true>();

  private constructor(
    readonly pg: PGlite,
    readonly schema: string,
  ) {}

  /** Creates the schema when missing. Closing the returned database leaves the instance open. */
  static async open(pg: PGlite, schema: string): Promise<PgliteDatabase> {
    if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${schema}`);
    await pg.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    return new PgliteDatabase(pg, schema);
  }

  query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return this.transaction((tx) => tx.query<R>(sql, params));
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    if (this.inTransaction.getStore()) {
      throw new Error(`PgliteDatabase(${this.schema}): a query on the database inside one of its transactions would deadlock; use the transaction's tx`);
    }
    return this.pg.transaction(async (t) => {
      await t.exec(`SET LOCAL search_path TO ${this.schema}`);
      const tx: Queryable = { query: (sql, params) => run(t, sql, params) };
      return this.inTransaction.run(true, () => fn(tx));
    });
  }

  /** The instance is shared: its owner closes it. */
  async close(): Promise<void> {}
}

/** A statement with parameters takes the extended protocol; one without (DDL, several statements) the simple one. */
async function run<R>(t: Transaction, sql: string, params: readonly unknown[] | undefined): Promise<QueryResult<R>> {
  if (params && params.length > 0) {
    const res = await t.query<R>(sql, params as unknown[]);
    return { rows: res.rows, rowCount: rowCount(res.rows.length, res.affectedRows) };
  }
  const results = await t.exec(sql);
  const last = results[results.length - 1];
  const rows = (last?.rows ?? []) as R[];
  return { rows, rowCount: rowCount(rows.length, last?.affectedRows) };
}

/** pg's rowCount: rows returned by a SELECT, rows changed by INSERT/UPDATE/DELETE (PGlite reports 0 affected for a SELECT). */
function rowCount(returned: number, affected: number | undefined): number {
  return Math.max(returned, affected ?? 0);
}
