import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { Pool, type PoolClient, type PoolConfig, type QueryConfig } from 'pg';
import { QueuedStatements, type Database, type QueryResult, type Transaction } from './database';

// bigint (int8) and numeric come back as strings by default; counts and cents fit in a JS number.
import { types } from 'pg';
types.setTypeParser(20, (v) => Number(v));

/**
 * Session settings of every service connection (ADR 10, fourth addendum):
 * - `enable_seqscan=off`: every service statement is meant to be an index lookup. A prepared
 *   statement's generic plan is made once per connection, and made while a fresh database's tables
 *   are a page or two it scans them sequentially, and keeps doing so as they grow (until autovacuum
 *   analyzes them); the bench found seq scans on saga_instances, orders, payments and reservations.
 *   Custom plans (`plan_cache_mode=force_custom_plan`) fix that too but plan every execution: 0.4 ms
 *   of PostgreSQL CPU more per saga. A statement with no index to use still scans.
 * - `jit=off`: such a scan's disabled-path cost would pass `jit_above_cost` and compile each time.
 */
const SESSION_OPTIONS = '-c enable_seqscan=off -c jit=off';

/**
 * A {@link Database} on a `pg` connection pool.
 *
 * @example
 * const db = new PgDatabase({ connectionString: 'postgres://postgres@127.0.0.1:5432/order_db' });
 */
export class PgDatabase implements Database {
  readonly pool: Pool;

  constructor(config: PoolConfig) {
    // Pipeline mode: a statement goes out without waiting for the answer to the one before, so a
    // transaction's BEGIN costs no round trip of its own (see `transaction`).
    this.pool = new Pool({ max: 10, pipeline: true, options: SESSION_OPTIONS, ...config });
    // An idle client's error (e.g. the server restarting) must not crash the process.
    this.pool.on('error', () => undefined);
  }

  async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    const res = await this.pool.query(statement(sql, params));
    return { rows: res.rows as R[], rowCount: res.rowCount };
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A checked-out client has no listener of the pool's: when the server goes away between two
    // statements of the transaction (e.g. while `fn` awaits an HTTP call), its 'error' event would
    // crash the process (found by the chaos run's PostgreSQL restarts). The next statement fails
    // instead, and the client is discarded below.
    const lost = (): void => undefined;
    client.on('error', lost);
    const send = (sql: string, params?: readonly unknown[]) => {
      holdWrites(client);
      return client.query(statement(sql, params));
    };
    // BEGIN is not awaited: on the pipelined connection `fn`'s first statement follows it at once
    // (in the same write, see holdWrites). If BEGIN failed, that statement fails too; awaiting it
    // before COMMIT surfaces the error either way.
    const begun = send('BEGIN');
    begun.catch(() => undefined);
    const query = async <R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> => {
      const res = await send(sql, params);
      return { rows: res.rows as R[], rowCount: res.rowCount };
    };
    const queued = new QueuedStatements();
    try {
      const tx: Transaction = {
        query,
        queue: <R>(sql: string, params?: readonly unknown[], check?: (result: QueryResult<R>) => void, failed?: (err: unknown) => unknown) =>
          queued.add(query<R>(sql, params), check, failed),
      };
      const result = await fn(tx);
      await begun;
      // Their answers are in by now when `fn` awaited a statement sent after them.
      await queued.settled();
      await client.query('COMMIT');
      client.off('error', lost);
      client.release();
      return result;
    } catch (err) {
      const cause = (await queued.firstFailure()) ?? err;
      await client.query('ROLLBACK').catch(() => undefined);
      client.off('error', lost);
      client.release(true);
      throw cause;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

const held = new WeakSet<Socket>();

/**
 * Holds the connection's writes until this turn of the event loop ends: the statements a
 * transaction sends together (BEGIN and the first one, queued writes and the awaited statement
 * behind them) leave in one write, read by the server at once. One write per statement cost ~15%
 * more CPU on both sides in a micro-benchmark of five-statement transactions (ADR 10, sixth addendum).
 */
function holdWrites(client: PoolClient): void {
  const stream = (client as unknown as { connection?: { stream?: Socket } }).connection?.stream;
  if (!stream || held.has(stream) || typeof stream.cork !== 'function') return;
  held.add(stream);
  stream.cork();
  setImmediate(() => {
    held.delete(stream);
    stream.uncork();
  });
}

const names = new Map<string, string>();

/**
 * A parameterised statement becomes a named prepared statement, so each connection parses and plans
 * it once instead of on every call (the services' SQL is a fixed set of texts). A statement without
 * parameters (DDL, migrations with several statements) goes through the simple protocol as is.
 */
function statement(sql: string, params: readonly unknown[] | undefined): QueryConfig | string {
  if (!params || params.length === 0) return sql;
  let name = names.get(sql);
  if (name === undefined) {
    name = `s_${createHash('sha1').update(sql).digest('base64url').slice(0, 20)}`;
    names.set(sql, name);
  }
  return { name, text: sql, values: params as unknown[] };
}

