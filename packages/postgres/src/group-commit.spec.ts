import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupCommit } from './group-commit';

describe('GroupCommit', () => {
  it('writes the first item at once and what arrives meanwhile together in the next write', async () => {
    const writes: number[][] = [];
    const gc = new GroupCommit<number, number>(async (items) => {
      writes.push([...items]);
      await new Promise((r) => setTimeout(r, 5));
      return items.map((i) => i * 10);
    });
    const results = await Promise.all([1, 2, 3, 4].map((i) => gc.submit(i)));
    assert.deepEqual(results, [10, 20, 30, 40]);
    assert.deepEqual(writes, [[1], [2, 3, 4]]);
  });

  it('submitAll puts its items in one write and settles each', async () => {
    const writes: number[][] = [];
    const gc = new GroupCommit<number, number>(async (items) => {
      writes.push([...items]);
      if (items.length === 1 && items[0] === 2) throw new Error('two is refused');
      if (items.includes(2)) throw new Error('the group fails');
      return [...items];
    });
    const settled = await gc.submitAll([1, 2, 3]);
    assert.deepEqual(writes[0], [1, 2, 3]);
    assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled']);
  });

  it('caps a write at maxItems', async () => {
    const writes: number[] = [];
    const gc = new GroupCommit<number, number>(async (items) => {
      writes.push(items.length);
      await new Promise((r) => setImmediate(r));
      return [...items];
    }, 2);
    await Promise.all([1, 2, 3, 4, 5, 6].map((i) => gc.submit(i)));
    assert.deepEqual(writes, [1, 2, 2, 1]);
  });

  it('when a group fails, writes each item alone: only the bad one is rejected', async () => {
    const gc = new GroupCommit<number, number>(async (items) => {
      await new Promise((r) => setImmediate(r));
      if (items.includes(3)) throw new Error('bad item 3');
      return [...items];
    });
    const settled = await Promise.allSettled([1, 2, 3, 4].map((i) => gc.submit(i)));
    assert.deepEqual(
      settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message)),
      [1, 2, 'bad item 3', 4],
    );
  });
});
