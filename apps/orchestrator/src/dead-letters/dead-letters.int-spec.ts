import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { dlqTopic, MESSAGE_SCHEMAS, type MessageType } from '@saga/contracts';
import {
  DLQ_HEADERS,
  envelopeHeaders,
  KafkaBroker,
  MESSAGING_MIGRATIONS,
  newEnvelope,
  OutboxRelay,
  perMessage,
  startTransactionalConsumer,
  type IncomingMessage,
  type Subscription,
} from '@saga/messaging';
import { brokerList, createLogger, startHttpApp } from '@saga/nest-kit';
import { dropDatabase, ensureDatabase, migrate, PgDatabase, type Queryable, type Transaction } from '@saga/postgres';
import { SagaEngine, SYSTEM_CLOCK } from '@saga/saga';
import { createPrivateTopics, eventually } from '@saga/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { v7 } from 'uuid';
import { ORCHESTRATOR_MIGRATIONS } from '../orchestrator.migrations';
import { OrchestratorModule } from '../orchestrator.module';
import { placeOrderSaga } from '../place-order.saga';
import { PgSagaStore } from '../postgres/pg-saga.store';
import { SagaQueryRepository } from '../postgres/saga-query.repository';
import { ParkedEventsRepository } from '../postgres/parked-events.repository';
import { SagasService } from '../sagas.service';
import { DeadLetterRepository } from './dead-letter.repository';
import { REPLAY_HEADERS } from './dead-letters.service';
import { deadLetters } from './dead-letters.wiring';

// The dead-letter path on the real Kafka broker (private topics) and PostgreSQL: a participant-like
// transactional consumer dead-letters a poison and a malformed record; the collector stores both;
// the operator API lists them and replays one to its original topic through the outbox, once.

const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
const BROKERS = brokerList(process.env.KAFKA_BROKERS ?? '127.0.0.1:19092');
const SUFFIX = randomBytes(4).toString('hex');
const SOURCE = `it_dlq_${SUFFIX}.inventory.commands`;
const DLQ = dlqTopic(SOURCE);
const DB_NAME = `it_orchestrator_dlq_${SUFFIX}`;
const logger = createLogger('orchestrator-test', process.env.LOG_LEVEL ?? 'silent');

let db: PgDatabase;
let broker: KafkaBroker;
let relay: OutboxRelay;
let raw: Producer<string, string, string, string>;
let app: NestFastifyApplication;
let base: string;
let deleteTopics: (() => Promise<void>)[] = [];
const subs: Subscription[] = [];
/** Every message of the source topic, as a tap sees it (to check the replay). */
const seen: IncomingMessage[] = [];

async function http(method: string, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, { method });
  return { status: res.status, body: await res.json() };
}

before(async () => {
  deleteTopics = [await createPrivateTopics(BROKERS, [SOURCE], 2), await createPrivateTopics(BROKERS, [DLQ], 1)];
  db = new PgDatabase({ connectionString: await ensureDatabase(SERVER, DB_NAME), max: 8 });
  await migrate(db, [...MESSAGING_MIGRATIONS, ...ORCHESTRATOR_MIGRATIONS]);
  broker = new KafkaBroker({ brokers: BROKERS, clientId: `it-dlq-${SUFFIX}`, logger });
  relay = new OutboxRelay({ db, producer: broker.producer(), logger });
  relay.start();
  raw = new Producer({ clientId: `it-dlq-raw-${SUFFIX}`, bootstrapBrokers: BROKERS, serializers: stringSerializers });

  // A participant: validates each payload against its schema (a ZodError is poison: dead-lettered at once).
  subs.push(
    await startTransactionalConsumer({
      broker, db, relay, logger, groupId: `it-dlq-participant-${SUFFIX}`, topics: [SOURCE],
      handle: perMessage(async (_tx: Queryable, m) => {
        MESSAGE_SCHEMAS[m.envelope.type as MessageType].parse(m.envelope.payload);
        return [];
      }),
    }),
  );
  subs.push(await broker.subscribe({ groupId: `it-dlq-tap-${SUFFIX}`, topics: [SOURCE], handler: async (batch) => void seen.push(...batch) }));
  const dlq = deadLetters({ broker, db, relay, topics: [DLQ], groupId: `it-dlq-orch-${SUFFIX}`, logger });
  subs.push(await dlq.start());
  await Promise.all(subs.map((s) => s.ready));

  const engine = new SagaEngine<Transaction>({ store: new PgSagaStore(), definitions: [placeOrderSaga()], clock: SYSTEM_CLOCK, ids: { newId: v7 } });
  const sagas = new SagasService(db, engine, relay, new SagaQueryRepository(db), new ParkedEventsRepository());
  app = await startHttpApp({ service: 'orchestrator', module: OrchestratorModule.register(sagas, dlq.service), port: 0, host: '127.0.0.1', logger });
  base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
});

after(async () => {
  await app?.close();
  for (const s of subs.reverse()) await s.close().catch(() => undefined);
  await relay?.stop();
  await raw?.close();
  await broker?.close();
  for (const del of deleteTopics) await del().catch(() => undefined);
  await db?.close();
  await dropDatabase(SERVER, DB_NAME);
});

describe('dead letters: collect, browse, replay (real Kafka + PostgreSQL)', () => {
  const orderId = `dlq-${randomUUID()}`;
  // A valid envelope whose payload breaks its schema, and a record whose value is not JSON.
  const poison = { ...newEnvelope('ReleaseStock', { orderId }, { sagaId: orderId }), type: 'ReserveStock' as const };
  let poisonLetterId: string;

  it('stores every dead letter of the source topic with its reason, error and origin', async () => {
    const notJson = { topic: SOURCE, key: orderId, value: '{"orderId": ', headers: envelopeHeaders(newEnvelope('ReleaseStock', { orderId }, { sagaId: orderId })) };
    await raw.send({ messages: [{ topic: SOURCE, key: orderId, value: JSON.stringify(poison.payload), headers: { ...envelopeHeaders(poison), 'x-extra': 'kept' } }, notJson] });

    const listed = await eventually(
      async () => {
        const res = await http('GET', `/api/dead-letters?sagaId=${orderId}`);
        assert.equal(res.status, 200);
        assert.equal(res.body.items.length, 2, JSON.stringify(res.body));
        return res.body;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const byReason = Object.fromEntries(listed.items.map((l: any) => [l.reason, l]));
    assert.deepEqual(Object.keys(byReason).sort(), ['malformed', 'poison']);
    const p = byReason.poison;
    assert.equal(p.originalTopic, SOURCE);
    assert.equal(p.dlqTopic, DLQ);
    assert.equal(p.messageId, poison.id);
    assert.equal(p.messageType, 'ReserveStock');
    assert.equal(p.consumerGroup, `it-dlq-participant-${SUFFIX}`);
    assert.match(p.error, /items/);
    assert.equal(p.replayedAt, null);
    assert.match(byReason.malformed.error, /not JSON/);
    poisonLetterId = p.id;

    const one = await http('GET', `/api/dead-letters/${p.id}`);
    assert.equal(one.status, 200);
    assert.deepEqual(one.body.envelope.payload, { orderId });
  });

  it('replays a dead letter to its original topic with a new message id, and a second replay is a 409', async () => {
    const replayed = await http('POST', `/api/dead-letters/${poisonLetterId}/replay`);
    assert.equal(replayed.status, 200, JSON.stringify(replayed.body));
    assert.ok(replayed.body.replayedAt);
    const newId: string = replayed.body.replayMessageId;
    assert.notEqual(newId, poison.id);

    const copy = await eventually(
      () => {
        const m = seen.find((s) => s.envelope.id === newId);
        assert.ok(m, 'the replayed message is on the source topic');
        return m;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    assert.equal(copy.topic, SOURCE);
    assert.equal(copy.key, orderId);
    assert.equal(copy.envelope.type, 'ReserveStock');
    assert.deepEqual(copy.envelope.payload, { orderId });
    assert.equal(copy.envelope.correlationId, poison.correlationId);
    assert.equal(copy.headers?.[REPLAY_HEADERS.replayOf], poison.id);
    assert.equal(copy.headers?.['x-extra'], 'kept');
    assert.equal(copy.headers?.[DLQ_HEADERS.reason], undefined, 'no dlq-* header on the replay');

    const again = await http('POST', `/api/dead-letters/${poisonLetterId}/replay`);
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'CONFLICT');
    assert.match(again.body.message, /already replayed/);

    // Still poison: the participant dead-letters the replay too, a new letter pointing at it.
    await eventually(
      async () => {
        const res = await http('GET', `/api/dead-letters?sagaId=${orderId}`);
        assert.ok(res.body.items.some((l: any) => l.messageId === newId && l.headers[REPLAY_HEADERS.replayOf] === poison.id), JSON.stringify(res.body.items));
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const pending = await http('GET', `/api/dead-letters?sagaId=${orderId}&replayed=false`);
    assert.equal(pending.body.items.length, 2);
  });

  it('answers 404 for an unknown or malformed id, 400 for a bad filter', async () => {
    assert.equal((await http('POST', '/api/dead-letters/999999999/replay')).status, 404);
    assert.equal((await http('GET', '/api/dead-letters/abc')).status, 404);
    const bad = await http('GET', '/api/dead-letters?replayed=maybe');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, 'replayed');
  });

  it('stores a redelivered letter once (its DLQ position is the key)', async () => {
    const repo = new DeadLetterRepository();
    const letter: IncomingMessage = {
      topic: DLQ, partition: 0, offset: '987654', key: 'k-redelivered',
      envelope: newEnvelope('ReleaseStock', { orderId: 'k-redelivered' }, { sagaId: 'k-redelivered' }),
      headers: { [DLQ_HEADERS.reason]: 'failed', [DLQ_HEADERS.error]: 'boom', [DLQ_HEADERS.originalTopic]: SOURCE },
    };
    assert.equal(await db.transaction((tx) => repo.insertBatch(tx, [letter, letter])), 1);
    assert.equal(await db.transaction((tx) => repo.insertBatch(tx, [letter])), 0);
  });
});
