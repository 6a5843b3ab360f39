import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { dlqTopic, ErrorCode, type Envelope, type MessageType, type PayloadOf } from '@saga/contracts';
import {
  envelopeFromHeaders,
  KafkaBroker,
  MESSAGING_MIGRATIONS,
  newEnvelope,
  OutboxRelay,
  reply,
  startTransactionalConsumer,
  toTopic,
  type OutgoingMessage,
  type Subscription,
} from '@saga/messaging';
import { brokerList, createLogger } from '@saga/nest-kit';
import { eventually } from '@saga/testing';
import { dropDatabase, ensureDatabase, migrate, PgDatabase, type Transaction } from '@saga/postgres';
import { SagaEngine, SYSTEM_CLOCK } from '@saga/saga';
import { v7 } from 'uuid';
import { ORCHESTRATOR_MIGRATIONS } from './orchestrator.migrations';
import { placeOrderSaga } from './place-order.saga';
import { PgSagaStore } from './postgres/pg-saga.store';
import { SagaMessagesHandler } from './saga-messages.handler';

// The orchestrator's consumer path over the real Kafka broker (private topics) and PostgreSQL:
// OrderPaymentRequested → saga + first command in the outbox; the test plays every participant by
// answering the outbox rows on the replies topic, with duplicate deliveries, until every saga ends.
// The outbox relay is not started: commands stay in the outbox table for the test to read.

const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
const BROKERS = brokerList(process.env.KAFKA_BROKERS ?? '127.0.0.1:19092');
const SUFFIX = randomBytes(4).toString('hex');
const EVENTS = `it_orch_${SUFFIX}.order.events`;
const REPLIES = `it_orch_${SUFFIX}.replies`;
const DB_NAME = `it_orchestrator_kafka_${SUFFIX}`;
const logger = createLogger('orchestrator-test', process.env.LOG_LEVEL ?? 'silent');

let db: PgDatabase;
let admin: Admin;
let broker: KafkaBroker;
let sub: Subscription;

before(async () => {
  admin = new Admin({ clientId: `it-orch-admin-${SUFFIX}`, bootstrapBrokers: BROKERS });
  await admin.createTopics({ topics: [EVENTS, REPLIES], partitions: 4, replicas: 1 });
  await admin.createTopics({ topics: [dlqTopic(EVENTS), dlqTopic(REPLIES)], partitions: 1, replicas: 1 });
  db = new PgDatabase({ connectionString: await ensureDatabase(SERVER, DB_NAME), max: 10 });
  await migrate(db, [...MESSAGING_MIGRATIONS, ...ORCHESTRATOR_MIGRATIONS]);
  const engine = new SagaEngine<Transaction>({ store: new PgSagaStore(), definitions: [placeOrderSaga()], clock: SYSTEM_CLOCK, ids: { newId: v7 } });
  const handler = new SagaMessagesHandler(engine, logger, { orderEvents: EVENTS, replies: REPLIES });
  broker = new KafkaBroker({ brokers: BROKERS, clientId: `it-orch-${SUFFIX}`, logger });
  const relay = new OutboxRelay({ db, producer: broker.producer(), logger }); // never started
  sub = await startTransactionalConsumer({ broker, db, relay, groupId: `it-orch-${SUFFIX}`, topics: handler.topics, logger, handle: handler.handle });
  await sub.ready;
});

after(async () => {
  await sub?.close();
  await broker?.close();
  await admin?.deleteTopics({ topics: [EVENTS, REPLIES, dlqTopic(EVENTS), dlqTopic(REPLIES)] }).catch(() => undefined);
  await admin?.close();
  await db?.close();
  await dropDatabase(SERVER, DB_NAME);
});

interface OutboxRow {
  id: number;
  topic: string;
  headers: Record<string, string>;
  payload: unknown;
}

/** Each participant's success answer; P001 is out of stock. */
function answer(command: Envelope): OutgoingMessage {
  const p = command.payload as { orderId: string; paymentId?: string; items?: { productId: string }[] };
  const to = <T extends MessageType>(type: T, payload: PayloadOf<T>) => ({ ...reply(command, type, payload), topic: REPLIES });
  const ref = { orderId: p.orderId };
  switch (command.type) {
    case 'MarkOrderPaymentPending':
      return to('OrderPaymentPendingMarked', ref);
    case 'ReserveStock':
      return p.items?.some((i) => i.productId === 'P001')
        ? to('StockReservationFailed', { ...ref, code: ErrorCode.OutOfStock, reason: 'P001 is not available' })
        : to('StockReserved', ref);
    case 'ProcessPayment':
      return to('PaymentCompleted', { ...ref, paymentId: p.paymentId! });
    case 'ConfirmOrder':
      return to('OrderConfirmed', ref);
    case 'CommitStock':
      return to('StockCommitted', ref);
    case 'FailOrder':
      return to('OrderFailed', ref);
    case 'ReleaseStock':
      return to('StockReleased', ref);
    default:
      throw new Error(`no participant for ${command.type}`);
  }
}

describe('orchestrator consumer over Kafka (private topics)', () => {
  it('runs 24 sagas from OrderPaymentRequested to COMPLETED / COMPENSATED despite duplicate deliveries', async () => {
    const orders = Array.from({ length: 24 }, (_, i) => `it-${SUFFIX}-${i}`);
    const events = orders.map((orderId, i) =>
      toTopic(
        EVENTS,
        newEnvelope(
          'OrderPaymentRequested',
          {
            orderId,
            customerId: 'CUS_0001',
            items: [{ productId: i % 4 === 0 ? 'P001' : 'P002', quantity: 1, unitPriceCents: 69_999 }],
            amountCents: 69_999,
            currency: 'USD',
          },
          { sagaId: orderId },
        ),
      ),
    );
    const noise = toTopic(EVENTS, newEnvelope('OrderStatusChanged', { orderId: orders[1], customerId: 'CUS_0001', status: 'INITIATED', statusInfo: null }, { sagaId: orders[1] }));
    // the same start event twice (redelivery) and again under a new message id (re-publication)
    const republished = { ...events[2], envelope: { ...events[2].envelope, id: v7() } };
    await broker.producer().send([...events, noise, events[2], republished]);

    let seen = 0;
    let answered = 0;
    await eventually(
      async () => {
        const { rows } = await db.query<OutboxRow>('SELECT id, topic, headers, payload FROM outbox WHERE id > $1 ORDER BY id', [seen]);
        if (rows.length > 0) {
          seen = rows[rows.length - 1].id;
          const replies = rows.map((r) => answer(envelopeFromHeaders((h) => r.headers[h], r.payload)));
          // every reply delivered twice, plus a copy under a new message id (a participant's resend)
          const copies = replies.map((m) => ({ ...m, envelope: { ...m.envelope, id: v7() } }));
          await broker.producer().send([...replies, ...replies, ...copies]);
          answered += rows.length;
        }
        const { rows: done } = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM saga_instances WHERE status IN ('COMPLETED', 'COMPENSATED')`,
        );
        assert.equal(done[0].n, orders.length, `${done[0].n} sagas ended after ${answered} answers`);
        return answered;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );

    const { rows } = await db.query<{ id: string; status: string; version: number; failure: { code: string; reason: string } | null }>(
      'SELECT id, status, version, failure FROM saga_instances ORDER BY id',
    );
    assert.equal(rows.length, 24, 'one saga per order, whatever the duplicates');
    for (const [i, orderId] of orders.entries()) {
      const saga = rows.find((r) => r.id === orderId)!;
      if (i % 4 === 0) {
        assert.equal(saga.status, 'COMPENSATED', orderId);
        assert.deepEqual(saga.failure, { code: 'OUT_OF_STOCK', reason: 'P001 is not available', step: 'reserveStock' });
        assert.equal(saga.version, 3, 'start (marked at start), reservation failed, order failed');
      } else {
        assert.equal(saga.status, 'COMPLETED', orderId);
        assert.equal(saga.version, 5, 'start + 4 replies: duplicates changed nothing');
      }
    }
    const { rows: sent } = await db.query<{ type: string; n: number }>(
      `SELECT headers->>'message-type' AS type, count(*)::int AS n FROM outbox GROUP BY 1 ORDER BY 1`,
    );
    assert.deepEqual(Object.fromEntries(sent.map((r) => [r.type, r.n])), {
      ReserveStock: 24,
      FailOrder: 6,
      ProcessPayment: 18,
      ConfirmOrder: 18,
      CommitStock: 18,
    });
    const { rows: fail } = await db.query<{ payload: unknown; headers: Record<string, string> }>(
      `SELECT payload, headers FROM outbox WHERE headers->>'message-type' = 'FailOrder' AND key = $1`,
      [orders[0]],
    );
    assert.deepEqual(fail[0].payload, { orderId: orders[0], code: 'OUT_OF_STOCK', reason: 'P001 is not available' });
    assert.ok(fail[0].headers['causation-id'], 'commands carry the id of the reply that caused them');
  });
});
