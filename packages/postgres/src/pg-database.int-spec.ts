import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dropDatabase, ensureDatabase } from './ensure-database';
import { PgDatabase } from './pg-database';
import { queuedStatementsContract } from './queued-statements.contract';

const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
const NAME = `it_pgdb_${Date.now().toString(36)}`;

describe('PgDatabase (real PostgreSQL)', () => {
  let db: PgDatabase;
  let admin: PgDatabase;

  before(async () => {
    await ensureDatabase(SERVER, NAME);
    const url = new URL(SERVER);
    url.pathname = `/${NAME}`;
    db = new PgDatabase({ connectionString: url.toString() });
    url.pathname = '/postgres';
    admin = new PgDatabase({ connectionString: url.toString() });
  });
  after(async () => {
    await db?.close();
    await admin?.close();
    await dropDatabase(SERVER, NAME);
  });

  queuedStatementsContract(() => db);

  it('survives the server dropping a checked-out connection between two statements: the transaction fails, the process lives, the pool goes on', async () => {
    const failed = db.transaction(async (tx) => {
      const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // The server ends this very connection while the transaction waits on something else.
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
      await new Promise((r) => setTimeout(r, 200));
      await tx.query('SELECT 1');
    });
    await assert.rejects(failed, /terminat|Connection/i);
    assert.deepEqual((await db.query<{ one: number }>('SELECT 1 AS one')).rows, [{ one: 1 }]);
    assert.equal(await db.transaction(async (tx) => (await tx.query<{ two: number }>('SELECT 2 AS two')).rows[0].two), 2);
  });

  it('keeps an index plan for a prepared statement first run on a tiny table, after the table grew (no sequential scan frozen into the generic plan)', async () => {
    const one = new PgDatabase({ connectionString: (db.pool.options as { connectionString: string }).connectionString, max: 1 });
    try {
      await one.query('CREATE TABLE grows (id text PRIMARY KEY, v int NOT NULL)');
      await one.query("INSERT INTO grows SELECT 'k' || g, g FROM generate_series(1, 60) g");
      // As autovacuum does early on a fresh database: statistics of a one-page table.
      await one.query('ANALYZE grows');
      // What the services' named statements go through: PREPARE, then executions of the same plan source.
      await one.query('PREPARE lookup(text[]) AS SELECT v FROM grows WHERE id = ANY($1)');
      // Past five custom plans, the connection caches a generic plan, made here on a one-page table.
      for (let i = 0; i < 8; i++) await one.query("EXECUTE lookup('{k1,k2}')");
      await one.query("INSERT INTO grows SELECT 'g' || g, g FROM generate_series(1, 100000) g");
      // EXPLAIN EXECUTE shows the plan the cached statement now runs.
      const after = JSON.stringify((await one.query("EXPLAIN EXECUTE lookup('{k1,k2}')")).rows);
      assert.doesNotMatch(after, /Seq Scan/, after);
      assert.match(after, /Index/, after);
    } finally {
      await one.close();
    }
  });
});
