import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { dropDatabase, ensureDatabase, explainAsDefault, migrate, PgDatabase, type Transaction } from '@saga/postgres';
import { SagaConflictError, SagaEngine, sequentialIds, type SagaEvent } from '@saga/saga';
import { ORCHESTRATOR_MIGRATIONS } from '../orchestrator.migrations';
import { PLACE_ORDER, placeOrderData, placeOrderSaga } from '../place-order.saga';
import { CLAIM_DUE_SQL, LOAD_SQL, PgSagaStore, SAVE_SQL } from './pg-saga.store';
import { SagaQueryRepository } from './saga-query.repository';

const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
const DB_NAME = `it_orchestrator_store_${randomBytes(4).toString('hex')}`;

let db: PgDatabase;
let now = new Date('2026-01-01T00:00:00.000Z');
const store = new PgSagaStore();
const engine = new SagaEngine<Transaction>({
  store,
  definitions: [placeOrderSaga()],
  clock: { now: () => now },
  ids: sequentialIds(`m-${randomBytes(3).toString('hex')}`),
});

const startOf = (orderId: string): SagaEvent => ({
  kind: 'start',
  sagaType: PLACE_ORDER,
  sagaId: orderId,
  data: placeOrderData({
    orderId,
    customerId: 'CUS_0001',
    items: [{ productId: 'P002', quantity: 2, unitPriceCents: 69_999 }],
    amountCents: 139_998,
    currency: 'USD',
  }),
});

before(async () => {
  db = new PgDatabase({ connectionString: await ensureDatabase(SERVER, DB_NAME), max: 4 });
  await migrate(db, ORCHESTRATOR_MIGRATIONS);
});

after(async () => {
  await db?.close();
  await dropDatabase(SERVER, DB_NAME);
});

describe('PgSagaStore (real PostgreSQL)', () => {
  it('stores what the engine produced and loads it back unchanged', async () => {
    const [started] = await db.transaction((tx) => engine.apply(tx, [startOf('s-1')]));
    const [loaded] = await db.transaction((tx) => store.loadForUpdate(tx, ['s-1', 'missing']));
    assert.deepEqual(loaded, started.instance);
    const history = await new SagaQueryRepository(db).history('s-1');
    assert.deepEqual(history.map((h) => [h.seq, h.event]), [[1, 'STARTED'], [2, 'COMMAND_SENT']]);
  });

  it('runs a whole saga to COMPLETED through the store, one version per transition', async () => {
    const [s] = await db.transaction((tx) => engine.apply(tx, [startOf('s-2')]));
    let cause = s.commands[0].messageId;
    for (const type of ['StockReserved', 'PaymentCompleted', 'OrderConfirmed', 'StockCommitted']) {
      const payload = { orderId: 's-2', paymentId: 'pay_s-2' };
      const [o] = await db.transaction((tx) => engine.apply(tx, [{ kind: 'reply', sagaId: 's-2', reply: { type, causationId: cause, payload } }]));
      assert.equal(o.ignored, undefined, `${type} applied`);
      cause = o.commands[0]?.messageId ?? '';
    }
    const saga = await new SagaQueryRepository(db).get('s-2');
    assert.equal(saga?.status, 'COMPLETED');
    assert.equal(saga?.version, 5, 'start (markPaymentPending done at start) + 4 replies');
    assert.equal(saga?.deadlineAt, null);
    const history = await new SagaQueryRepository(db).history('s-2');
    assert.equal(history.length, saga?.historySize);
    assert.deepEqual(history.map((h) => h.seq), history.map((_, i) => i + 1));
  });

  it('refuses a stale version and a duplicate insert with SagaConflictError', async () => {
    await db.transaction((tx) => engine.apply(tx, [startOf('s-3')]));
    const [v1] = await db.transaction((tx) => store.loadForUpdate(tx, ['s-3']));
    await assert.rejects(
      db.transaction((tx) => store.save(tx, { inserts: [], updates: [{ instance: { ...v1, version: 3 }, expectedVersion: 2 }], history: [] })),
      SagaConflictError,
    );
    await assert.rejects(db.transaction((tx) => store.save(tx, { inserts: [v1], updates: [], history: [] })), SagaConflictError);
    // a conflict rolls back the whole save: the history entry written beside it is not kept
    const entry = { sagaId: 's-3', seq: 99, at: now, step: 'x', event: 'STARTED' as const, detail: {} };
    await assert.rejects(
      db.transaction((tx) => store.save(tx, { inserts: [], updates: [{ instance: { ...v1, version: 3 }, expectedVersion: 2 }], history: [entry] })),
      SagaConflictError,
    );
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM saga_history WHERE saga_id = 's-3' AND seq = 99`);
    assert.equal(rows[0].n, 0);
  });

  it('applies a batch of 200 starts with one statement per kind and a later batch of replies', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `b-${String(i).padStart(3, '0')}`);
    const started = await db.transaction((tx) => engine.apply(tx, ids.map(startOf)));
    const replies: SagaEvent[] = started.map((o) => ({
      kind: 'reply',
      sagaId: o.event.sagaId,
      reply: { type: 'StockReserved', causationId: o.commands[0].messageId, payload: { orderId: o.event.sagaId } },
    }));
    const outcomes = await db.transaction((tx) => engine.apply(tx, replies));
    assert.ok(outcomes.every((o) => o.commands[0]?.type === 'ProcessPayment'));
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM saga_instances WHERE id LIKE 'b-%' AND version = 2`);
    assert.equal(rows[0].n, 200);
  });

  it('batched statements use the indexes, no scan of the whole table (DESIGN §4)', async () => {
    // enough finished sagas that a full scan would cost; the planner must not pick one
    await db.query(`
      INSERT INTO saga_instances (id, type, status, current_step, attempt, data, pending_command_ids, version, history_size, created_at, updated_at)
      SELECT 'filler-' || g, 'Filler', 'COMPLETED', 'x', 1, '{}', '[]', 1, 0, now(), now() FROM generate_series(1, 20000) g`);
    await db.query('ANALYZE saga_instances');
    const ids = Array.from({ length: 100 }, (_, i) => `b-${String(i).padStart(3, '0')}`);
    const plan = async (sql: string, params: unknown[]) =>
      (await explainAsDefault<{ 'QUERY PLAN': string }>(db, 'EXPLAIN', sql, params)).map((r) => r['QUERY PLAN']).join('\n');

    const update = await plan(SAVE_SQL, ['[]', JSON.stringify(ids.map((id) => ({ id, expected_version: 2 }))), ids, '[]']);
    assert.match(update, /Index Scan (using|on) saga_instances_pkey/, update);
    assert.doesNotMatch(update, /Seq Scan on saga_instances/, update);
    const load = await plan(LOAD_SQL, [ids]);
    assert.match(load, /Index Scan (using|on) saga_instances_pkey/, load);
    assert.doesNotMatch(load, /Seq Scan/, load);
    const due = await plan(CLAIM_DUE_SQL, [now, 200, [PLACE_ORDER], [1]]);
    assert.match(due, /saga_instances_due_idx/, due);
  });

  it('claimDue skips sagas another transaction holds, so pollers never fire one saga twice', async () => {
    await db.transaction((tx) => engine.apply(tx, ['d-1', 'd-2', 'd-3'].map(startOf)));
    const later = new Date(now.getTime() + 60 * 60_000);
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((r) => (releaseFirst = r));
    let claimedFirst!: (ids: string[]) => void;
    const firstClaimed = new Promise<string[]>((r) => (claimedFirst = r));
    const first = db.transaction(async (tx) => {
      const due = await store.claimDue(tx, later, 2, engine.registered());
      claimedFirst(due.map((d) => d.id));
      await firstHolds;
    });
    const a = await firstClaimed;
    const b = await db.transaction(async (tx) => (await store.claimDue(tx, later, 1000, engine.registered())).map((d) => d.id));
    releaseFirst();
    await first;
    assert.equal(a.length, 2);
    assert.ok(b.every((id) => !a.includes(id)), `second claim ${b} overlaps first ${a}`);
    assert.ok(b.length > 0);
  });

  it('stores the definition version; claimDue leaves out sagas whose version is not registered', async () => {
    await db.transaction((tx) => engine.apply(tx, [startOf('v-1')]));
    const v2 = new SagaEngine<Transaction>({ store, definitions: [placeOrderSaga(undefined, 2)], clock: { now: () => now }, ids: sequentialIds('v2') });
    const [started] = await db.transaction((tx) => v2.apply(tx, [startOf('v-2')]));
    assert.equal(started.commands[0].type, 'CheckStock');
    const [one, two] = await db.transaction((tx) => store.loadForUpdate(tx, ['v-1', 'v-2']));
    assert.deepEqual([one.definitionVersion, two.definitionVersion], [1, 2]);
    const later = new Date(now.getTime() + 24 * 60 * 60_000);
    const claimed = await db.transaction(async (tx) => (await store.claimDue(tx, later, 10_000, v2.registered())).map((d) => d.id));
    assert.ok(claimed.includes('v-2') && !claimed.includes('v-1'), `v2 only: ${claimed.filter((id) => id.startsWith('v-'))}`);
  });
});
