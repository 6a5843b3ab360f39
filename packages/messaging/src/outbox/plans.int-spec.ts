import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { explainAsDefault, type PgDatabase } from '@saga/postgres';
import { CLAIM_INBOX_SQL, CLAIM_OUTBOX_SQL, DELETE_SENT_OUTBOX_SQL, INSERT_OUTBOX_SQL, KNOWN_INBOX_SQL, PRUNE_INBOX_SQL } from '../messaging.sql';
import { createTestDatabase } from '../testing/test-support';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

const INDEXED = new Set(['Index Scan', 'Index Only Scan', 'Bitmap Heap Scan']);

/**
 * What would make a batched statement super-linear: a sequential scan of a queue table (cost grows
 * with the backlog, per batch) or a nested loop whose inner side is not an index lookup (cost grows
 * with batch × batch, DESIGN §4).
 */
function planProblems(node: PlanNode, out: string[] = []): string[] {
  if (node['Node Type'] === 'Seq Scan' && (node['Relation Name'] === 'outbox' || node['Relation Name'] === 'inbox')) {
    out.push(`Seq Scan on ${node['Relation Name']}`);
  }
  if (node['Node Type'] === 'Nested Loop') {
    let inner = node.Plans?.[1];
    while (inner && inner['Node Type'] === 'Limit') inner = inner.Plans?.[0];
    if (inner && !INDEXED.has(inner['Node Type'])) out.push(`Nested Loop over ${inner['Node Type']}`);
  }
  for (const child of node.Plans ?? []) planProblems(child, out);
  return out;
}

describe('plans of the batched statements (DESIGN §4: no quadratic plans)', () => {
  let db: PgDatabase;
  let drop: () => Promise<void>;

  before(async () => {
    ({ db, drop } = await createTestDatabase());
    // Tables of a busy service: a backlog in the outbox and a full inbox.
    await db.query(`INSERT INTO outbox (topic, key, headers, payload)
      SELECT 't', 'k' || (g % 100), '{"message-id":"x"}', '{"a":1}' FROM generate_series(1, 30000) g`);
    await db.query(`INSERT INTO inbox (message_id, received_at)
      SELECT gen_random_uuid(), now() - (g || ' seconds')::interval FROM generate_series(1, 100000) g`);
    await db.query('ANALYZE outbox');
    await db.query('ANALYZE inbox');
  });
  after(async () => {
    await drop();
  });

  async function plan(sql: string, params: unknown[]): Promise<PlanNode> {
    const rows = await explainAsDefault<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(db, 'EXPLAIN (FORMAT JSON)', sql, params);
    return rows[0]['QUERY PLAN'][0].Plan;
  }

  const ids = (n: number) => Array.from({ length: n }, () => randomUUID());

  for (const n of [500, 5000]) {
    it(`inbox claim of ${n} ids`, async () => {
      assert.deepEqual(planProblems(await plan(CLAIM_INBOX_SQL, [ids(n)])), []);
    });
    it(`inbox lookup of ${n} ids`, async () => {
      assert.deepEqual(planProblems(await plan(KNOWN_INBOX_SQL, [ids(n)])), []);
    });
    it(`outbox insert of ${n} rows, deleting as many published ones`, async () => {
      const a = Array.from({ length: n }, () => 't');
      const j = Array.from({ length: n }, () => '{}');
      assert.deepEqual(planProblems(await plan(INSERT_OUTBOX_SQL, [a, a, j, j, Array.from({ length: n }, (_, i) => i + 1)])), []);
    });
    it(`outbox claim of ${n} rows`, async () => {
      // with as many rows queued on the fast path, which the claim skips
      assert.deepEqual(planProblems(await plan(CLAIM_OUTBOX_SQL, [n, Array.from({ length: n }, (_, i) => i + 1)])), []);
    });
    it(`outbox delete of ${n} rows published on the fast path`, async () => {
      assert.deepEqual(planProblems(await plan(DELETE_SENT_OUTBOX_SQL, [Array.from({ length: n }, (_, i) => i + 1)])), []);
    });
  }

  it('inbox retention chunk', async () => {
    assert.deepEqual(planProblems(await plan(PRUNE_INBOX_SQL, [0.5, 5000])), []);
  });

  it('the check catches the plan it guards against', async () => {
    // The naive claim: PostgreSQL scans the whole outbox for every batch at this size.
    const naive = `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING id`;
    assert.notDeepEqual(planProblems(await plan(naive, [500])), []);
    // The naive lookup: a scan of the whole inbox for a batch of ids.
    const lookup = 'SELECT message_id FROM inbox WHERE message_id = ANY($1::uuid[])';
    assert.notDeepEqual(planProblems(await plan(lookup, [ids(500)])), []);
  });
});
