import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { decodeCursor, encodeCursor, nextLink, PAGE_QUERY, pageOf } from './paging';
import { parseWith } from './parse-with';

describe('keyset paging', () => {
  const rows = [1, 2, 3, 4, 5].map((n) => ({ id: `o${n}`, at: `2026-12-04 10:00:0${n}+00` }));

  it('cuts a page at its limit and names the last row in the next cursor; the last page has none', () => {
    const first = pageOf(rows.slice(0, 3), 2, (r) => [r.at, r.id]);
    assert.deepEqual(first.items.map((r) => r.id), ['o1', 'o2']);
    assert.deepEqual(decodeCursor(first.nextCursor!, 2), [rows[1].at, 'o2']);
    const last = pageOf(rows.slice(3), 2, (r) => [r.at, r.id], (r) => r.id);
    assert.deepEqual(last, { items: ['o4', 'o5'], limit: 2, nextCursor: null });
  });

  it('gives the next page as a relative Link with the cursor set, keeping the other parameters', () => {
    const cursor = encodeCursor(['2026-12-04 10:00:02+00', 'o2']);
    assert.equal(nextLink('/api/orders?customerId=CUS_0001&limit=2&cursor=old', cursor), `</api/orders?customerId=CUS_0001&limit=2&cursor=${cursor}>; rel="next"`);
    assert.equal(nextLink('/api/orders?customerId=CUS_0001', null), undefined);
  });

  it('refuses a cursor that is not one of ours with a 400 naming the field', () => {
    for (const bad of ['not-base64-json', encodeCursor(['only one part']), Buffer.from('{"a":1}').toString('base64url')]) {
      assert.throws(() => decodeCursor(bad, 2), (err: { code?: string; details?: { field?: string } }) => err.code === 'VALIDATION_FAILED' && err.details?.field === 'cursor');
    }
    const Query = z.object(PAGE_QUERY);
    assert.throws(() => parseWith(Query, { cursor: 'has spaces' }, 'query'), /cursor: is not a cursor from a previous page/);
    assert.throws(() => parseWith(Query, { limit: '201' }, 'query'), /limit/);
    assert.deepEqual(parseWith(Query, {}, 'query'), { limit: 50, sort: 'asc' });
  });
});
