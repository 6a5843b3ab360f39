import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ENVELOPE_HEADERS, TOPICS } from '@saga/contracts';
import { enqueueOutbox, MESSAGING_MIGRATIONS } from '@saga/messaging';
import { createLogger, startHttpApp } from '@saga/nest-kit';
import { dropDatabase, ensureDatabase, migrate, PgDatabase, type Transaction } from '@saga/postgres';
import { SagaEngine, SYSTEM_CLOCK } from '@saga/saga';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { v7 } from 'uuid';
import { ORCHESTRATOR_MIGRATIONS } from './orchestrator.migrations';
import { OrchestratorModule } from './orchestrator.module';
import { PLACE_ORDER, placeOrderData, placeOrderSaga } from './place-order.saga';
import { PgSagaStore } from './postgres/pg-saga.store';
import { SagaQueryRepository } from './postgres/saga-query.repository';
import { ParkedEventsRepository } from './postgres/parked-events.repository';
import { commandMessages } from './saga-commands';
import { SagasService } from './sagas.service';

// The operator actions of the saga API over real PostgreSQL: cancel compensates through the engine
// (the compensation command is in the outbox), step retry re-sends, filters by age, outcome rates.

const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
const DB_NAME = `it_orchestrator_operator_${randomBytes(4).toString('hex')}`;
const logger = createLogger('orchestrator-test', 'silent');

let db: PgDatabase;
let app: NestFastifyApplication;
let base: string;
const engine = new SagaEngine<Transaction>({ store: new PgSagaStore(), definitions: [placeOrderSaga()], clock: SYSTEM_CLOCK, ids: { newId: v7 } });

async function http(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function startSaga(orderId: string): Promise<void> {
  const data = placeOrderData({ orderId, customerId: 'CUS_0002', items: [{ productId: 'P003', quantity: 1, unitPriceCents: 14_999 }], amountCents: 14_999, currency: 'USD' });
  await db.transaction(async (tx) => enqueueOutbox(tx, commandMessages(await engine.apply(tx, [{ kind: 'start', sagaType: PLACE_ORDER, sagaId: orderId, data }]), [])));
}

async function outboxTypes(sagaId: string): Promise<string[]> {
  const { rows } = await db.query<{ headers: Record<string, string> }>('SELECT headers FROM outbox WHERE key = $1 ORDER BY id', [sagaId]);
  return rows.map((r) => r.headers[ENVELOPE_HEADERS.type]);
}

before(async () => {
  db = new PgDatabase({ connectionString: await ensureDatabase(SERVER, DB_NAME), max: 6 });
  await migrate(db, [...MESSAGING_MIGRATIONS, ...ORCHESTRATOR_MIGRATIONS]);
  const sagas = new SagasService(db, engine, { wake: () => undefined }, new SagaQueryRepository(db), new ParkedEventsRepository());
  app = await startHttpApp({ service: 'orchestrator', module: OrchestratorModule.register(sagas), port: 0, host: '127.0.0.1', logger });
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
});

after(async () => {
  await app?.close();
  await db?.close();
  await dropDatabase(SERVER, DB_NAME);
});

describe('operator actions on sagas (real PostgreSQL)', () => {
  it('cancel of a RUNNING saga compensates through the engine: ReleaseStock in the outbox, a second cancel is a 409', async () => {
    const id = `cancel-${randomBytes(3).toString('hex')}`;
    await startSaga(id);
    const res = await http('POST', `/api/sagas/${id}/cancel`, { reason: 'customer called' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'COMPENSATING');
    assert.deepEqual(res.body.failure, { code: 'CANCELED_BY_OPERATOR', reason: 'customer called', step: 'reserveStock' });
    // A reservation whose outcome is unknown is released first (then the order is failed).
    assert.deepEqual(await outboxTypes(id), ['ReserveStock', 'ReleaseStock']);
    const saga = await http('GET', `/api/sagas/${id}`);
    assert.deepEqual(saga.body.history.map((h: { event: string }) => h.event).slice(-3), ['OPERATOR_CANCEL', 'STEP_FAILED', 'COMPENSATION_SENT']);

    const again = await http('POST', `/api/sagas/${id}/cancel`);
    assert.equal(again.status, 409);
    assert.match(again.body.message, /only a RUNNING saga/);
    assert.equal((await http('POST', '/api/sagas/nope/cancel')).status, 404);
    const bad = await http('POST', `/api/sagas/${id}/cancel`, { reason: '', extra: 1 });
    assert.equal(bad.status, 400);
  });

  it('retry of a RUNNING saga re-sends its current step as attempt 2', async () => {
    const id = `retry-${randomBytes(3).toString('hex')}`;
    await startSaga(id);
    const res = await http('POST', `/api/sagas/${id}/retry`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.attempt, 2);
    assert.deepEqual(await outboxTypes(id), ['ReserveStock', 'ReserveStock']);
    const { rows } = await db.query<{ topic: string }>('SELECT topic FROM outbox WHERE key = $1', [id]);
    assert.ok(rows.every((r) => r.topic === TOPICS.inventoryCommands));
  });

  it('pages sagas by keyset, newest first with sort=desc: each once across pages, the Link naming the next', async () => {
    const type = `Paging${randomBytes(3).toString('hex')}`;
    // Five sagas of a type of their own, created a second apart (the list is by creation).
    for (let i = 0; i < 5; i++) {
      await db.query(
        `INSERT INTO saga_instances (id, type, status, current_step, attempt, data, pending_command_ids, version, history_size, created_at, updated_at)
         VALUES ($1, $2, 'COMPLETED', 'commitStock', 1, '{}', '[]', 1, 0, now() - make_interval(secs => $3), now())`,
        [`${type}-${i}`, type, 10 - i],
      );
    }
    const seen: string[] = [];
    let path: string | undefined = `/api/sagas?type=${type}&sort=desc&limit=2`;
    while (path) {
      const res = await fetch(`${base}${path}`);
      const body = (await res.json()) as { items: { id: string }[]; nextCursor: string | null };
      seen.push(...body.items.map((s) => s.id));
      path = /^<([^>]+)>; rel="next"$/.exec(res.headers.get('link') ?? '')?.[1];
      assert.equal(path !== undefined, body.nextCursor !== null);
    }
    assert.deepEqual(seen, [4, 3, 2, 1, 0].map((i) => `${type}-${i}`));
    const bad = await http('GET', '/api/sagas?offset=10');
    assert.deepEqual([bad.status, bad.body.field], [400, 'offset']);
  });

  it('filters by status and age, and counts outcomes per second', async () => {
    const id = `age-${randomBytes(3).toString('hex')}`;
    await startSaga(id);
    await db.query(`UPDATE saga_instances SET created_at = now() - interval '10 minutes' WHERE id = $1`, [id]);
    const old = await http('GET', '/api/sagas?status=RUNNING&minAgeSeconds=300');
    assert.deepEqual(old.body.items.map((s: { id: string }) => s.id), [id]);
    const recent = await http('GET', '/api/sagas?maxAgeSeconds=300');
    assert.ok(!recent.body.items.some((s: { id: string }) => s.id === id));
    assert.ok(recent.body.items.length >= 2);
    assert.equal((await http('GET', '/api/sagas?minAgeSeconds=-1')).status, 400);

    // Two sagas that ended now: one COMPENSATED (history rows as the engine writes them).
    await db.query(`INSERT INTO saga_history (saga_id, seq, at, step, event, detail) VALUES ($1, 100, now(), 'x', 'COMPENSATED', '{}'), ($2, 100, now(), 'x', 'COMPLETED', '{}')`, [`${id}-a`, `${id}-b`]);
    const stats = await http('GET', '/api/sagas/stats?seconds=30');
    assert.equal(stats.status, 200);
    assert.equal(stats.body.buckets.length, 30);
    const totals = stats.body.buckets.reduce(
      (t: Record<string, number>, b: Record<string, number>) => ({ COMPLETED: t.COMPLETED + b.COMPLETED, COMPENSATED: t.COMPENSATED + b.COMPENSATED }),
      { COMPLETED: 0, COMPENSATED: 0 },
    );
    assert.deepEqual(totals, { COMPLETED: 1, COMPENSATED: 1 });
    assert.equal((await http('GET', '/api/sagas/stats?seconds=0')).status, 400);
  });
});
