/**
 * Duplicates and garbage straight on Kafka, next to a running stack: a raw producer sends the same
 * command twice (same message id) and once more with a new id, malformed records, and duplicate
 * replies; every one has at most one effect, the bad ones land on the DLQ, and the consumers go on.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { dlqTopic, ErrorCode, TOPICS, type Envelope } from '@saga/contracts';
import { DLQ_HEADERS, envelopeHeaders, KafkaBroker, newEnvelope, type IncomingMessage, type Subscription } from '@saga/messaging';
import { pino } from 'pino';
import { eventually, get, post } from './http.ts';
import { available, createProduct, createWallet, queryService, startTestStack, type TestStack } from './support.ts';

/** A record as the raw producer sends it: envelope metadata as headers, the payload as the JSON value. */
function record(topic: string, env: Envelope) {
  return { topic, key: env.sagaId, value: JSON.stringify(env.payload), headers: envelopeHeaders(env) };
}

/** Every message of a topic from the beginning, to a consumer group of the test's own. */
async function tap(broker: KafkaBroker, topic: string): Promise<{ got: IncomingMessage[]; sub: Subscription }> {
  const got: IncomingMessage[] = [];
  const sub = await broker.subscribe({ groupId: `e2e-tap-${randomUUID()}`, topics: [topic], handler: async (batch) => void got.push(...batch) });
  await sub.ready;
  return { got, sub };
}

describe('duplicates and malformed messages (e2e, raw Kafka producer)', () => {
  let stack: TestStack;
  let raw: Producer<string, string, string, string>;
  let broker: KafkaBroker;
  let replies: { got: IncomingMessage[]; sub: Subscription };
  let dead: { got: IncomingMessage[]; sub: Subscription };
  const tag = Date.now().toString(36).toUpperCase();
  const product = `PDUP_${tag}`;
  const repliesOf = (sagaId: string) => replies.got.filter((m) => m.envelope.sagaId === sagaId);

  before(async () => {
    stack = await startTestStack('dup');
    const brokers = stack.brokers.split(',');
    raw = new Producer({ clientId: 'e2e-raw', bootstrapBrokers: brokers, serializers: stringSerializers });
    broker = new KafkaBroker({ brokers, clientId: 'e2e-tap', logger: pino({ level: 'warn' }) });
    replies = await tap(broker, TOPICS.orchestratorReplies);
    dead = await tap(broker, dlqTopic(TOPICS.inventoryCommands));
    await createProduct(stack, product, 10, 10);
  });
  after(async () => {
    await raw?.close();
    await broker?.close();
    await stack?.stop();
  });

  it('ReserveStock delivered twice with one message id and again with a new id reserves once; replies agree', async () => {
    const orderId = `dup-${randomUUID()}`;
    const payload = { orderId, items: [{ productId: product, quantity: 3 }] };
    const first = newEnvelope('ReserveStock', payload, { sagaId: orderId });
    const resent = newEnvelope('ReserveStock', payload, { sagaId: orderId }); // a re-send after a timeout
    await raw.send({ messages: [record(TOPICS.inventoryCommands, first), record(TOPICS.inventoryCommands, first)] });
    await raw.send({ messages: [record(TOPICS.inventoryCommands, resent)] });
    // A release after them on the same partition: once its reply is out, every earlier reply is too.
    const release = newEnvelope('ReleaseStock', { orderId }, { sagaId: orderId });
    await raw.send({ messages: [record(TOPICS.inventoryCommands, release)] });

    await eventually(() => repliesOf(orderId).some((m) => m.envelope.causationId === release.id), 30_000);
    const got = repliesOf(orderId).map((m) => [m.envelope.type, m.envelope.causationId]);
    assert.deepEqual(got, [
      ['StockReserved', first.id],
      ['StockReserved', resent.id],
      ['StockReleased', release.id],
    ]);
    const [reservation] = await queryService<{ status: string; items: unknown }>(stack, 'inventory', 'SELECT status, items FROM reservations WHERE order_id = $1', [orderId]);
    assert.equal(reservation.status, 'RELEASED');
    assert.deepEqual(reservation.items, [{ productId: product, quantity: 3 }]);
    assert.equal(await available(stack, product), 10);
  });

  it('a held reservation is held once: the stock moved by one order only', async () => {
    const orderId = `dup-${randomUUID()}`;
    const payload = { orderId, items: [{ productId: product, quantity: 4 }] };
    const first = newEnvelope('ReserveStock', payload, { sagaId: orderId });
    const resent = newEnvelope('ReserveStock', payload, { sagaId: orderId });
    await raw.send({ messages: [record(TOPICS.inventoryCommands, first), record(TOPICS.inventoryCommands, first), record(TOPICS.inventoryCommands, resent)] });
    await eventually(() => repliesOf(orderId).some((m) => m.envelope.causationId === resent.id), 30_000);
    assert.equal(await available(stack, product), 6);
    const [row] = await queryService<{ available: number; reserved: number }>(stack, 'inventory', 'SELECT available, reserved FROM products WHERE id = $1', [product]);
    assert.deepEqual(row, { available: 6, reserved: 4 });
    // Clean up through the saga's own compensation.
    const release = newEnvelope('ReleaseStock', { orderId }, { sagaId: orderId });
    await raw.send({ messages: [record(TOPICS.inventoryCommands, release)] });
    await eventually(() => repliesOf(orderId).some((m) => m.envelope.causationId === release.id), 30_000);
    assert.deepEqual(
      repliesOf(orderId).map((m) => m.envelope.type),
      ['StockReserved', 'StockReserved', 'StockReleased'],
    );
    assert.equal(await available(stack, product), 10);
  });

  it('dead-letters malformed records on inventory.commands and still handles a later valid command', async () => {
    const orderId = `bad-${randomUUID()}`;
    const good = newEnvelope('ReserveStock', { orderId, items: [{ productId: product, quantity: 1 }] }, { sagaId: orderId });
    const notJson = { topic: TOPICS.inventoryCommands, key: orderId, value: '{"orderId": ', headers: envelopeHeaders(newEnvelope('ReleaseStock', { orderId }, { sagaId: orderId })) };
    const noHeaders = { topic: TOPICS.inventoryCommands, key: orderId, value: JSON.stringify({ orderId }) };
    // A valid envelope whose payload breaks its schema (no items): poison, not retried.
    const poison = { ...newEnvelope('ReleaseStock', { orderId }, { sagaId: orderId }), type: 'ReserveStock' };
    // Same key, same partition: the valid command is behind the bad ones.
    await raw.send({ messages: [notJson, noHeaders, record(TOPICS.inventoryCommands, poison), record(TOPICS.inventoryCommands, good)] });

    await eventually(() => repliesOf(orderId).some((m) => m.envelope.causationId === good.id), 30_000);
    assert.deepEqual(repliesOf(orderId).map((m) => m.envelope.type), ['StockReserved']);
    assert.equal(await available(stack, product), 9);

    const letters = await eventually(() => {
      const mine = dead.got.filter((m) => m.key === orderId);
      return mine.length >= 3 ? mine : undefined;
    }, 30_000);
    assert.equal(letters.length, 3);
    assert.deepEqual(
      letters.map((m) => m.headers?.[DLQ_HEADERS.reason]),
      ['malformed', 'malformed', 'poison'],
    );
    assert.match(letters[0].headers?.[DLQ_HEADERS.error] ?? '', /not JSON/);
    assert.match(letters[1].headers?.[DLQ_HEADERS.error] ?? '', /message-id/);
    assert.equal(letters[2].envelope.id, poison.id);
    for (const m of letters) {
      assert.equal(m.headers?.[DLQ_HEADERS.originalTopic], TOPICS.inventoryCommands);
      assert.equal(m.headers?.[DLQ_HEADERS.consumerGroup], 'inventory');
    }
    const release = newEnvelope('ReleaseStock', { orderId }, { sagaId: orderId });
    await raw.send({ messages: [record(TOPICS.inventoryCommands, release)] });
    await eventually(() => repliesOf(orderId).some((m) => m.envelope.causationId === release.id), 30_000);
    assert.equal(await available(stack, product), 10);
  });

  it('ignores duplicate and late replies on orchestrator.replies: the finished saga does not move', async () => {
    const customer = `CDUP_${tag}`;
    await createWallet(stack, customer, 100);
    const placed = await post(`${stack.url('order')}/orders`, { customerId: customer, orderItems: [{ productId: product, quantity: 2, totalPrice: 20 }] });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    const orderId: string = placed.body.id;
    const sagaUrl = `${stack.url('orchestrator')}/api/sagas/${orderId}`;
    const before = await eventually(async () => {
      const res = await get(sagaUrl);
      return res.body?.status === 'COMPLETED' ? res.body : undefined;
    });
    const reserved = before.history.find((h: { step: string; event: string }) => h.step === 'reserveStock' && h.event === 'REPLY');
    const original = repliesOf(orderId).find((m) => m.envelope.id === reserved.detail.messageId);
    assert.ok(original, 'the tap saw the StockReserved reply');

    // The same reply again (same message id), the same reply with a new id (a participant's
    // repeat), and a contradicting late failure for the already answered command.
    const again = original.envelope;
    const repeat = newEnvelope('StockReserved', { orderId }, { sagaId: orderId, causationId: again.causationId });
    const late = newEnvelope(
      'StockReservationFailed',
      { orderId, code: ErrorCode.OutOfStock, reason: `${product} is not available` },
      { sagaId: orderId, causationId: again.causationId },
    );
    await raw.send({ messages: [again, repeat, late].map((e) => record(TOPICS.orchestratorReplies, e)) });

    // The orchestrator has handled the last one (same partition, in order) once its id is in its inbox.
    await eventually(
      async () => (await queryService(stack, 'orchestrator', 'SELECT 1 FROM inbox WHERE message_id = $1', [late.id])).length === 1,
      30_000,
      200,
    );
    const afterwards = (await get(sagaUrl)).body;
    assert.equal(afterwards.status, 'COMPLETED');
    assert.equal(afterwards.version, before.version);
    assert.deepEqual(afterwards.history, before.history);
    const order = await get(`${stack.url('order')}/api/orders/${orderId}`);
    assert.equal(order.body.status, 'PLACED');
    assert.equal(await available(stack, product), 8);
  });

  it('leaves the services consistent (invariants I1–I6)', async () => {
    const result = await stack.settleAndCheck();
    assert.deepEqual(result.violations, []);
    assert.equal(result.counts.completed, 1, JSON.stringify(result.counts));
  });
});
