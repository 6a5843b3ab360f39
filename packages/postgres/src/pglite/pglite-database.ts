import { AsyncLocalStorage } from 'node:async_hooks';
import type { PGlite, Transaction as PgliteTransaction } from '@electric-sql/pglite';
import { QueuedStatements, type Database, type QueryResult, type Transaction } from '../database';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;

/** The transaction in hand on one PGlite instance, seen by the code its callback runs. */
interface OpenTransaction {
  tx: PgliteTransaction;
  schema: string;
  /** True while the callback runs (not during COMMIT, nor after). */
  open: boolean;
  savepoints: number;
}

/** One per PGlite instance, shared by every schema's database on it. */
const inTransaction = new WeakMap<PGlite, AsyncLocalStorage<OpenTransaction>>();

/**
 * A {@link Database} on one schema of a shared PGlite instance. PGlite has one connection, so every
 * call runs as an exclusive transaction that first sets `search_path` to the schema (`SET LOCAL`, so
 * it ends with the transaction): a service's unqualified SQL reaches its own tables, as it would in
 * its own database. Measured: ~0.5 ms per call; the SET LOCAL adds ~0.1–0.3 ms.
 *
 * A call made while a transaction of the same instance runs in the caller's async context (e.g. the
 * outbox relay's `send` appending to the `bus` schema inside its claim transaction) would wait for
 * that transaction forever; it *joins* it instead, as a savepoint with its own search_path, so the
 * two commit or roll back together.
 *
 * @example
 * const pg = await openPglite('.data/embedded/pglite');
 * const db = await PgliteDatabase.open(pg, 'order_db');
 * await db.query('SELECT count(*) FROM orders');
 */
export class PgliteDatabase implements Database {
  private readonly current: AsyncLocalStorage<OpenTransaction>;

  private constructor(
    readonly pg: PGlite,
    readonly schema: string,
  ) {
    let als = inTransaction.get(pg);
    if (!als) inTransaction.set(pg, (als = new AsyncLocalStorage()));
    this.current = als;
  }

  /** Creates the schema when missing. Closing the returned database leaves the instance open. */
  static async open(pg: PGlite, schema: string): Promise<PgliteDatabase> {
    if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${schema}`);
    await pg.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    return new PgliteDatabase(pg, schema);
  }

  query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return this.transaction((tx) => tx.query<R>(sql, params));
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const outer = this.current.getStore();
    if (outer?.open) return this.joined(outer, fn);
    return this.pg.transaction(async (t) => {
      await t.exec(`SET LOCAL search_path TO ${this.schema}`);
      const state: OpenTransaction = { tx: t, schema: this.schema, open: true, savepoints: 0 };
      try {
        return await this.current.run(state, () => runQueued(t, fn));
      } finally {
        state.open = false;
      }
    });
  }

  private async joined<T>(outer: OpenTransaction, fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const t = outer.tx;
    const savepoint = `joined_${++outer.savepoints}`;
    await t.exec(`SAVEPOINT ${savepoint}; SET LOCAL search_path TO ${this.schema}`);
    try {
      const result = await runQueued(t, fn);
      await t.exec(`RELEASE SAVEPOINT ${savepoint}`);
      return result;
    } catch (err) {
      await t.exec(`ROLLBACK TO SAVEPOINT ${savepoint}`);
      throw err;
    } finally {
      await t.exec(`SET LOCAL search_path TO ${outer.schema}`);
    }
  }

  /** The instance is shared: its owner closes it. */
  async close(): Promise<void> {}
}

/**
 * Runs `fn` on the {@link Transaction} of a PGlite transaction. PGlite runs one statement at a time,
 * in the order they were called, so a queued statement only saves the caller's wait; the queued ones
 * are waited for after `fn`, and the first that failed is the error.
 */
async function runQueued<T>(t: PgliteTransaction, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  const queued = new QueuedStatements();
  const tx: Transaction = {
    query: (sql, params) => run(t, sql, params),
    queue: <R>(sql: string, params?: readonly unknown[], check?: (result: QueryResult<R>) => void, failed?: (err: unknown) => unknown) =>
      queued.add(run<R>(t, sql, params), check, failed),
  };
  try {
    const result = await fn(tx);
    await queued.settled();
    return result;
  } catch (err) {
    throw (await queued.firstFailure()) ?? err;
  }
}

/** A statement with parameters takes the extended protocol; one without (DDL, several statements) the simple one. */
async function run<R>(t: PgliteTransaction, sql: string, params: readonly unknown[] | undefined): Promise<QueryResult<R>> {
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
