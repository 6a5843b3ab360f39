import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PGlite } from '@electric-sql/pglite';
import { migrate } from '../migrations';
import { queuedStatementsContract } from '../queued-statements.contract';
import { openPglite } from './open-pglite';
import { PgliteDatabase } from './pglite-database';
import { PgliteNotifications } from './pglite-notifications';

describe('PgliteDatabase (one PGlite, a schema per service)', () => {
  let pg: PGlite;
  let a: PgliteDatabase;
  let b: PgliteDatabase;

  before(async () => {
    pg = await openPglite(undefined);
    a = await PgliteDatabase.open(pg, 'svc_a');
    b = await PgliteDatabase.open(pg, 'svc_b');
  });
  after(async () => {
    await pg.close();
  });

  it('runs each schema its own migrations on unqualified SQL (advisory lock, several statements)', async () => {
    const items = [{ name: '20261201000000_create_items', up: 'CREATE TABLE items (id bigserial PRIMARY KEY, v int NOT NULL); CREATE INDEX items_v_idx ON items (v);' }];
    assert.deepEqual(await migrate(a, items), ['20261201000000_create_items']);
    assert.deepEqual(await migrate(b, items), ['20261201000000_create_items']);
    assert.deepEqual(await migrate(a, items), [], 'applied once per schema');
    await a.query('INSERT INTO items (v) SELECT unnest($1::int[])', [[1, 2, 3]]);
    assert.equal((await b.query<{ n: number }>('SELECT count(*)::int AS n FROM items')).rows[0].n, 0, 'schemas do not share rows');
    assert.equal((await a.query<{ n: number }>('SELECT count(*)::int AS n FROM items')).rows[0].n, 3);
  });

  it("reports pg's rowCount and types: rows of a SELECT, rows changed by an UPDATE, int8 as a number, numeric as a string", async () => {
    const sel = await a.query<{ id: number; v: number }>('SELECT id, v FROM items ORDER BY id FOR UPDATE SKIP LOCKED');
    assert.equal(sel.rowCount, 3);
    assert.equal(typeof sel.rows[0].id, 'number');
    const upd = await a.query('UPDATE items SET v = v + 10 WHERE v >= $1', [2]);
    assert.equal(upd.rowCount, 2);
    assert.deepEqual(upd.rows, []);
    const num = await a.query<{ n: string }>('SELECT $1::numeric AS n', ['12.50']);
    assert.equal(num.rows[0].n, '12.50');
  });

  it('rolls a failed transaction back', async () => {
    await assert.rejects(
      a.transaction(async (tx) => {
        await tx.query('INSERT INTO items (v) VALUES ($1)', [99]);
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal((await a.query('SELECT 1 FROM items WHERE v = 99')).rowCount, 0);
  });

  it("joins a call made inside another schema's transaction: its own search_path, one commit or rollback", async () => {
    await a.transaction(async (tx) => {
      await tx.query('INSERT INTO items (v) VALUES ($1)', [100]);
      // Without joining, this would wait for the transaction in hand forever (PGlite has one connection).
      await b.query('INSERT INTO items (v) VALUES ($1)', [200]);
      assert.equal((await tx.query('SELECT 1 FROM items WHERE v = 200')).rowCount, 0, 'back on svc_a after the joined call');
    });
    assert.equal((await b.query('SELECT 1 FROM items WHERE v = 200')).rowCount, 1);
    await assert.rejects(
      a.transaction(async (tx) => {
        await b.query('INSERT INTO items (v) VALUES ($1)', [201]);
        await tx.query('INSERT INTO items (v) VALUES ($1)', [101]);
        throw new Error('undo both');
      }),
    );
    assert.equal((await b.query('SELECT 1 FROM items WHERE v = 201')).rowCount, 0);
    assert.equal((await a.query('SELECT 1 FROM items WHERE v = 101')).rowCount, 0);
    // A failing joined call rolls back to its savepoint only.
    await a.transaction(async (tx) => {
      await tx.query('INSERT INTO items (v) VALUES ($1)', [102]);
      await assert.rejects(b.query('INSERT INTO items (v) VALUES ($1)', [null]));
    });
    assert.equal((await a.query('SELECT 1 FROM items WHERE v = 102')).rowCount, 1);
  });

  describe('queued statements', () => queuedStatementsContract(() => a));

  it('serializes concurrent transactions', async () => {
    await a.query('CREATE TABLE counter (n int NOT NULL)');
    await a.query('INSERT INTO counter VALUES (0)');
    await Promise.all(
      Array.from({ length: 20 }, () =>
        a.transaction(async (tx) => {
          const { rows } = await tx.query<{ n: number }>('SELECT n FROM counter');
          await new Promise((r) => setImmediate(r));
          await tx.query('UPDATE counter SET n = $1', [rows[0].n + 1]);
        }),
      ),
    );
    assert.equal((await a.query<{ n: number }>('SELECT n FROM counter')).rows[0].n, 20);
  });

  it('delivers a NOTIFY committed in a schema to a listener (the Notifications port)', async () => {
    const got: string[] = [];
    let gaps = 0;
    let heard!: () => void;
    const heardP = new Promise<void>((r) => (heard = r));
    const sub = await new PgliteNotifications(pg).listen('order_status', {
      onNotify: (payload) => {
        got.push(payload);
        heard();
      },
      onGap: () => gaps++,
    });
    assert.equal(gaps, 1, 'told to re-read once, at start');
    await a.transaction(async (tx) => {
      await tx.query('SELECT pg_notify($1, $2)', ['order_status', 'PLACED:o-1']);
    });
    await Promise.race([heardP, new Promise((_, fail) => setTimeout(() => fail(new Error('no notification within 5 s')), 5_000))]);
    assert.deepEqual(got, ['PLACED:o-1']);
    await sub.close();
  });
});
