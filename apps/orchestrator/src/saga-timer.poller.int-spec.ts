import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AppError, ENVELOPE_HEADERS } from '@saga/contracts';
import { enqueueOutbox, MESSAGING_MIGRATIONS } from '@saga/messaging';
import { createLogger, startHttpApp } from '@saga/nest-kit';
import { eventually } from '@saga/testing';
import { dropDatabase, ensureDatabase, migrate, PgDatabase, type Transaction } from '@saga/postgres';
import { SagaEngine, SYSTEM_CLOCK, type Clock, type SagaEvent } from '@saga/saga';
import { v7 } from 'uuid';
import { ORCHESTRATOR_MIGRATIONS } from './orchestrator.migrations';
import { OrchestratorModule } from './orchestrator.module';
import { PLACE_ORDER, placeOrderData, placeOrderSaga, type PlaceOrderTimings } from './place-order.saga';
import { PgSagaStore } from './postgres/pg-saga.store';
import { SagaQueryRepository } from './postgres/saga-query.repository';
import { ParkedEventsRepository } from './postgres/parked-events.repository';
import { commandMessages } from './saga-commands';
import { SagaTimerPoller } from './saga-timer.poller';
import { SagasService } from './sagas.service';

const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
const DB_NAME = `it_orchestrator_timers_${randomBytes(4).toString('hex')}`;
const logger = createLogger('orchestrator-test', 'silent');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- HTTP bodies in assertions
type Json = any;

let db: PgDatabase;
let wakes = 0;
// The relay is Kafka's side; these tests read the real outbox table instead and count wake-ups.
const relay = { wake: () => void wakes++ };

function engineWith(timings: Partial<PlaceOrderTimings>, clock: Clock): SagaEngine<Transaction> {
  const t = { stepTimeoutMs: 1_000, paymentTimeoutMs: 2_000, maxAttempts: 2, backoffMs: 0, compensationMaxAttempts: 1, ...timings };
  return new SagaEngine<Transaction>({ store: new PgSagaStore(), definitions: [placeOrderSaga(t)], clock, ids: { newId: v7 } });
}

const startOf = (orderId: string): SagaEvent => ({
  kind: 'start',
  sagaType: PLACE_ORDER,
  sagaId: orderId,
  data: placeOrderData({
    orderId,
    customerId: 'CUS_0002',
    items: [{ productId: 'P003', quantity: 1, unitPriceCents: 14_999 }],
    amountCents: 14_999,
    currency: 'USD',
  }),
});

/** Starts sagas the way the consumer does: instances and their first commands in one transaction. */
async function startSagas(engine: SagaEngine<Transaction>, ids: string[]): Promise<void> {
  await db.transaction(async (tx) => enqueueOutbox(tx, commandMessages(await engine.apply(tx, ids.map(startOf)), [])));
}

async function outboxOf(sagaId: string) {
  const { rows } = await db.query<{ topic: string; headers: Record<string, string>; payload: unknown }>(
    'SELECT topic, headers, payload FROM outbox WHERE key = $1 ORDER BY id',
    [sagaId],
  );
  return rows;
}

before(async () => {
  db = new PgDatabase({ connectionString: await ensureDatabase(SERVER, DB_NAME), max: 6 });
  await migrate(db, [...MESSAGING_MIGRATIONS, ...ORCHESTRATOR_MIGRATIONS]);
});

after(async () => {
  await db?.close();
  await dropDatabase(SERVER, DB_NAME);
});

describe('SagaTimerPoller (real PostgreSQL + outbox)', () => {
  it('fires a due timer once: the re-sent command is in the outbox with the id the saga waits for', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const engine = engineWith({}, { now: () => now });
    const poller = new SagaTimerPoller({ db, engine, relay, logger });
    await startSagas(engine, ['t-1']);
    assert.equal(await poller.fireDue(), 0, 'not due yet');
    now = new Date(now.getTime() + 1_000);
    const wakesBefore = wakes;
    assert.equal(await poller.fireDue(), 1);
    assert.equal(await poller.fireDue(), 0, 'the timer moved on');
    assert.equal(wakes, wakesBefore + 1, 'the relay was woken after the commit');

    const saga = (await new SagaQueryRepository(db).get('t-1'))!;
    assert.equal(saga.attempt, 2);
    const rows = await outboxOf('t-1');
    assert.deepEqual(rows.map((r) => r.headers[ENVELOPE_HEADERS.type]), ['ReserveStock', 'ReserveStock']);
    assert.equal(rows[1].topic, 'inventory.commands');
    assert.deepEqual(saga.pendingCommandIds, rows.map((r) => r.headers[ENVELOPE_HEADERS.id]), 'both attempts stay answerable');
  });

  it('two pollers on one database fire each of 60 due sagas exactly once', async () => {
    let now = new Date('2026-02-01T00:00:00Z');
    const engine = engineWith({}, { now: () => now });
    const ids = Array.from({ length: 60 }, (_, i) => `c-${i}`);
    await startSagas(engine, ids);
    now = new Date(now.getTime() + 1_000);
    const a = new SagaTimerPoller({ db, engine, relay, logger, batchSize: 7 });
    const b = new SagaTimerPoller({ db, engine, relay, logger, batchSize: 7 });
    const drain = async (p: SagaTimerPoller) => {
      let total = 0;
      for (let n = await p.fireDue(); n > 0; n = await p.fireDue()) total += n;
      return total;
    };
    const [fa, fb] = await Promise.all([drain(a), drain(b)]);
    assert.ok(fa + fb >= 60, `fired ${fa} + ${fb}`);
    const { rows } = await db.query<{ id: string; version: number; retries: number }>(
      `SELECT i.id, i.version, (SELECT count(*)::int FROM saga_history h WHERE h.saga_id = i.id AND h.event = 'RETRY') AS retries
       FROM saga_instances i WHERE i.id LIKE 'c-%'`,
    );
    assert.equal(rows.length, 60);
    assert.ok(rows.every((r) => r.version === 2 && r.retries === 1), JSON.stringify(rows.filter((r) => r.version !== 2)));
  });

  it('running on its own, timers drive a silent saga to COMPENSATION_FAILED; the operator API retries it', async () => {
    const engine = engineWith({ stepTimeoutMs: 150, maxAttempts: 2, backoffMs: 0, compensationMaxAttempts: 1 }, SYSTEM_CLOCK);
    const poller = new SagaTimerPoller({ db, engine, relay, logger, intervalMs: 20 });
    const sagas = new SagasService(db, engine, relay, new SagaQueryRepository(db), new ParkedEventsRepository());
    const app = await startHttpApp({ service: 'orchestrator', module: OrchestratorModule.register(sagas), port: 0, host: '127.0.0.1', logger });
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    try {
      const id = `silent-${randomBytes(3).toString('hex')}`;
      await startSagas(engine, [id]);
      poller.start();
      // ReserveStock ×2 (the order was PAYMENT_PENDING at start), then ReleaseStock ×1 (its outcome is unknown), all unanswered
      const stuck = await eventually(
        async () => {
          const s = await new SagaQueryRepository(db).get(id);
          assert.equal(s?.status, 'COMPENSATION_FAILED');
          return s!;
        },
        { timeoutMs: 10_000 },
      );
      assert.deepEqual(stuck.failure, {
        code: 'STEP_TIMEOUT',
        reason: 'reserveStock got no reply within 150 ms (2 attempts)',
        step: 'reserveStock',
      });
      assert.deepEqual(
        (await outboxOf(id)).map((r) => r.headers[ENVELOPE_HEADERS.type]),
        ['ReserveStock', 'ReserveStock', 'ReleaseStock'],
      );
      await poller.stop(); // from here on the saga's state is the operator's

      const list = (await (await fetch(`${base}/api/sagas?status=COMPENSATION_FAILED&sort=desc`)).json()) as { items: { id: string }[] };
      assert.ok(list.items.some((s) => s.id === id));
      const detail = (await (await fetch(`${base}/api/sagas/${id}`)).json()) as Json;
      assert.deepEqual(detail.steps.slice(0, 2).map((s: Json) => [s.name, s.state, s.attempts]), [
        ['markPaymentPending', 'SUCCEEDED', 0],
        ['reserveStock', 'COMPENSATION_FAILED', 2],
      ]);
      assert.equal(detail.history.at(-1).event, 'COMPENSATION_FAILED');

      const retried = await fetch(`${base}/api/sagas/${id}/retry`, { method: 'POST' });
      assert.equal(retried.status, 200);
      assert.equal(((await retried.json()) as Json).status, 'COMPENSATING');
      assert.equal((await outboxOf(id)).map((r) => r.headers[ENVELOPE_HEADERS.type]).at(-1), 'ReleaseStock');

      const again = await fetch(`${base}/api/sagas/${id}/retry`, { method: 'POST' });
      assert.equal(again.status, 409);
      assert.equal(((await again.json()) as Json).code, 'CONFLICT');
      assert.equal((await fetch(`${base}/api/sagas/nope/retry`, { method: 'POST' })).status, 404);
      assert.equal((await fetch(`${base}/api/sagas/nope`)).status, 404);
      const bad = await fetch(`${base}/api/sagas?status=DONE`);
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as Json).code, 'VALIDATION_FAILED');
      await assert.rejects(sagas.retry('nope'), AppError);
    } finally {
      await poller.stop();
      await app.close();
    }
  });
});
