import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Database } from './database';

/**
 * What every {@link Database} promises about `Transaction.queue`, run by the PostgreSQL and the
 * PGlite specs on a fresh database of theirs: queued statements run in order with the awaited ones,
 * commit with them, and a failed one (or a failed check) rolls the whole transaction back.
 */
export function queuedStatementsContract(db: () => Database): void {
  it('runs queued statements in order with the awaited ones, and commits what they wrote', async () => {
    await db().query('CREATE TABLE queued (k int PRIMARY KEY, v text NOT NULL)');
    const seen = await db().transaction(async (tx) => {
      tx.queue('INSERT INTO queued (k, v) VALUES ($1, $2)', [1, 'a']);
      tx.queue('UPDATE queued SET v = v || $2 WHERE k = $1', [1, 'b']);
      // Sent after the queued ones, so it sees what they did.
      return (await tx.query<{ v: string }>('SELECT v FROM queued WHERE k = $1', [1])).rows[0]?.v;
    });
    assert.equal(seen, 'ab');
    assert.deepEqual((await db().query('SELECT k, v FROM queued')).rows, [{ k: 1, v: 'ab' }]);
  });

  it('rejects with the error of the queued statement that failed, not with the aborted statements after it', async () => {
    await assert.rejects(
      db().transaction(async (tx) => {
        tx.queue('INSERT INTO queued (k, v) VALUES ($1, $2)', [1, 'duplicate key']);
        await tx.query('SELECT v FROM queued WHERE k = $1', [1]);
      }),
      (err: { code?: string }) => err.code === '23505',
    );
  });

  it('rolls the transaction back and rejects with the error of a queued statement that failed, even when nothing awaited it', async () => {
    await assert.rejects(
      db().transaction(async (tx) => {
        await tx.query('INSERT INTO queued (k, v) VALUES ($1, $2)', [2, 'kept?']);
        tx.queue('INSERT INTO queued (k, v) VALUES ($1, $2)', [1, 'duplicate key']);
      }),
      (err: { code?: string }) => err.code === '23505',
    );
    assert.deepEqual((await db().query('SELECT k FROM queued ORDER BY k')).rows, [{ k: 1 }], 'nothing of the transaction committed');
  });

  it('rejects with what `failed` makes of a queued statement\'s error', async () => {
    await assert.rejects(
      db().transaction(async (tx) => {
        tx.queue('INSERT INTO queued (k, v) VALUES ($1, $2)', [1, 'duplicate key'], undefined, (err) => new Error(`mapped ${(err as { code?: string }).code}`));
      }),
      /mapped 23505/,
    );
  });

  it('rolls the transaction back when the check of a queued statement throws', async () => {
    await assert.rejects(
      db().transaction(async (tx) => {
        tx.queue('UPDATE queued SET v = $2 WHERE k = ANY($1::int[])', [[1, 3], 'changed'], (res) => {
          if (res.rowCount !== 2) throw new Error(`${2 - (res.rowCount ?? 0)} of 2 rows changed concurrently`);
        });
        await tx.query('INSERT INTO queued (k, v) VALUES ($1, $2)', [4, 'after']);
      }),
      /1 of 2 rows changed concurrently/,
    );
    assert.deepEqual((await db().query('SELECT k, v FROM queued ORDER BY k')).rows, [{ k: 1, v: 'ab' }]);
  });
}
