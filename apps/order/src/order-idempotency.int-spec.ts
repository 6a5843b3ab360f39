import 'reflect-metadata';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TOPICS } from '@saga/contracts';
import { InMemoryBroker, newEnvelope, toTopic } from '@saga/messaging';
import { createLogger, loadConfig, openServiceDatabase, serviceDatabaseUrl } from '@saga/nest-kit';
import { dropDatabase, PgNotifications, type Database } from '@saga/postgres';
import { eventually } from '@saga/testing';
import { startOrder, type RunningOrder } from './order.app';
import { OrderEnvSchema } from './order.config';
import { OrderRepository } from './order.repository';

const run = Math.random().toString(36).slice(2, 10);
const env = loadConfig(OrderEnvSchema, {
  ...process.env,
  // The order config wants a real port: one of its own, picked at random.
  PORT: String(40_000 + Math.floor(Math.random() * 10_000)),
  DB_NAME: `it_order_${run}`,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
  // Nobody answers there: the customer check lets orders go ahead (as during a wallet outage).
  WALLET_URL: 'http://127.0.0.1:9',
  INVENTORY_URL: 'http://127.0.0.1:9',
});
const PRODUCT = `IT_P_${run}`;

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

/**
 * The order service's Idempotency-Key handling on real PostgreSQL (the key claims of group-committed
 * creations, the saga start of a payment); the saga itself is played by hand on the in-process
 * broker: ConfirmOrder / FailOrder sent to order.commands as the orchestrator would.
 */
describe('order service: Idempotency-Key (real PostgreSQL + in-process broker)', () => {
  const logger = createLogger('order', env.LOG_LEVEL);
  const broker = new InMemoryBroker();
  let db: Database;
  let notifications: PgNotifications;
  let order: RunningOrder;
  let base: string;
  let customers = 0;

  before(async () => {
    db = await openServiceDatabase({ serverUrl: env.DATABASE_URL, name: env.DB_NAME });
    notifications = new PgNotifications(serviceDatabaseUrl(env.DATABASE_URL, env.DB_NAME), () => undefined);
    order = await startOrder({ env, logger, db, notifications, broker });
    base = `http://127.0.0.1:${(order.app.getHttpServer().address() as AddressInfo).port}`;
    await db.query(`INSERT INTO catalog_products (id, name, price_cents) VALUES ($1, 'test', 1250)`, [PRODUCT]);
  });
  after(async () => {
    await order?.stop();
    await db?.close();
    await broker.close();
    await dropDatabase(env.DATABASE_URL, env.DB_NAME);
  });

  const http = async (method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    return { status: res.status, body: await res.json(), headers: res.headers };
  };
  const newCustomer = () => `CUS_IT_${run}_${++customers}`;
  const orderFor = (customerId: string, quantity = 1) => ({ customerId, orderItems: [{ productId: PRODUCT, quantity }] });
  const ordersOf = async (customerId: string) => (await db.query<{ id: string }>('SELECT id FROM orders WHERE customer_id = $1', [customerId])).rows;
  const sagaStarts = (orderId: string) =>
    broker.messages(TOPICS.orderEvents).filter((m) => m.envelope.type === 'OrderPaymentRequested' && m.envelope.sagaId === orderId).length;
  const replays = (answers: Answer[]) => answers.filter((a) => a.headers.get('idempotent-replayed') === 'true').length;
  const command = (type: 'ConfirmOrder' | 'FailOrder', payload: Record<string, unknown>) =>
    broker.producer().send([toTopic(TOPICS.orderCommands, newEnvelope(type, payload as never, { sagaId: payload.orderId as string }))]);
  const statusOf = async (orderId: string) => (await db.query<{ status: string }>('SELECT status FROM orders WHERE id = $1', [orderId])).rows[0]?.status;

  it('makes one order of concurrent creations with one key; every repeat gets it, marked Idempotent-Replayed', async () => {
    const customerId = newCustomer();
    const answers = await Promise.all(Array.from({ length: 12 }, () => http('POST', '/api/orders', orderFor(customerId), { 'idempotency-key': 'create-1' })));
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([201]), JSON.stringify(answers.map((a) => a.body)));
    assert.equal(new Set(answers.map((a) => a.body.id)).size, 1);
    assert.equal(replays(answers), 11);
    for (const a of answers) assert.equal(a.headers.get('idempotency-key'), 'create-1');
    assert.equal((await ordersOf(customerId)).length, 1);
    // Later, the quoted form of the draft is the same key.
    const later = await http('POST', '/api/orders', orderFor(customerId), { 'idempotency-key': '"create-1"' });
    assert.deepEqual([later.status, later.body.id, later.headers.get('idempotent-replayed')], [201, answers[0].body.id, 'true']);
  });

  it("scopes a key to the customer: another customer's same key is another order", async () => {
    const [a, b] = [newCustomer(), newCustomer()];
    const [first, second] = await Promise.all([
      http('POST', '/api/orders', orderFor(a), { 'idempotency-key': 'shared' }),
      http('POST', '/api/orders', orderFor(b), { 'idempotency-key': 'shared' }),
    ]);
    assert.deepEqual([first.status, second.status], [201, 201]);
    assert.notEqual(first.body.id, second.body.id);
    assert.equal(replays([first, second]), 0);
  });

  it('refuses the key with another body or another kind of call: 422 IDEMPOTENCY_KEY_REUSED, nothing written', async () => {
    const customerId = newCustomer();
    const first = await http('POST', '/api/orders', orderFor(customerId), { 'idempotency-key': 'k-422' });
    assert.equal(first.status, 201);
    const otherBody = await http('POST', '/api/orders', orderFor(customerId, 2), { 'idempotency-key': 'k-422' });
    assert.equal(otherBody.status, 422, JSON.stringify(otherBody.body));
    assert.deepEqual([otherBody.body.code, otherBody.body.field], ['IDEMPOTENCY_KEY_REUSED', 'Idempotency-Key']);
    const otherCall = await http('POST', '/orders', orderFor(customerId), { 'idempotency-key': 'k-422', prefer: 'respond-async' });
    assert.deepEqual([otherCall.status, otherCall.body.code], [422, 'IDEMPOTENCY_KEY_REUSED']);
    const pay = await http('POST', `/api/orders/${first.body.id}/payment`, {}, { 'idempotency-key': 'k-422', prefer: 'respond-async' });
    assert.deepEqual([pay.status, pay.body.code], [422, 'IDEMPOTENCY_KEY_REUSED']);
    assert.equal((await ordersOf(customerId)).length, 1);
    assert.equal(await statusOf(first.body.id), 'INITIATED', 'the refused payment started nothing');
  });

  it('refuses a malformed key with 400 naming the header', async () => {
    for (const key of ['k'.repeat(256), '""']) {
      const res = await http('POST', '/orders', orderFor(newCustomer()), { 'idempotency-key': key });
      assert.deepEqual([res.status, res.body.code, res.body.field], [400, 'VALIDATION_FAILED', 'Idempotency-Key']);
    }
  });

  it('keeps a batch whole when some of its keys repeat: each distinct request makes one order', async () => {
    const customerId = newCustomer();
    const held = await http('POST', '/api/orders', orderFor(customerId), { 'idempotency-key': 'batch-0' });
    const calls = [
      ...Array.from({ length: 10 }, (_, i) => [`batch-${i}`, `batch-${i}`]).flat(),
      ...Array.from({ length: 5 }, () => undefined),
    ];
    const answers = await Promise.all(calls.map((key) => http('POST', '/api/orders', orderFor(customerId), key === undefined ? {} : { 'idempotency-key': key })));
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([201]));
    assert.equal(answers[0].body.id, held.body.id);
    assert.equal(answers[1].body.id, held.body.id);
    for (let i = 0; i < 10; i++) assert.equal(answers[2 * i].body.id, answers[2 * i + 1].body.id, `batch-${i}`);
    assert.equal((await ordersOf(customerId)).length, 1 + 9 + 5);
    assert.equal(replays(answers), 2 + 9);
  });

  it('answers a repeated one-call order with the first call\'s outcome, waited for like it: one order, one saga', async () => {
    const customerId = newCustomer();
    const headers = { 'idempotency-key': 'place-1', prefer: 'wait=10' };
    const both = Promise.all([http('POST', '/orders', orderFor(customerId), headers), http('POST', '/orders', orderFor(customerId), headers)]);
    const id = await eventually(async () => {
      const [row] = await ordersOf(customerId);
      assert.ok(row, 'the order is written');
      return row.id;
    });
    await command('ConfirmOrder', { orderId: id });
    const answers = await both;
    assert.deepEqual(answers.map((a) => [a.status, a.body.id, a.body.status]), [[201, id, 'PLACED'], [201, id, 'PLACED']]);
    assert.equal(replays(answers), 1);
    assert.equal(sagaStarts(id), 1);
    // After the outcome, a repeat answers it at once.
    const started = Date.now();
    const again = await http('POST', '/orders', orderFor(customerId), headers);
    assert.deepEqual([again.status, again.body.id, again.body.status], [201, id, 'PLACED']);
    assert.ok(Date.now() - started < 2_000, `answered in ${Date.now() - started} ms`);
    assert.equal((await ordersOf(customerId)).length, 1);
  });

  it('answers a repeated keyed payment with its saga (202 while it runs, then its failure), where a new payment is 409', async () => {
    const customerId = newCustomer();
    const created = await http('POST', '/api/orders', orderFor(customerId), {});
    const id = created.body.id as string;
    const headers = { 'idempotency-key': 'pay-1', prefer: 'respond-async' };
    const [first, second] = await Promise.all([
      http('POST', `/api/orders/${id}/payment`, {}, headers),
      http('POST', '/api/payment', { orderId: id }, headers),
    ]);
    assert.deepEqual([first.status, second.status], [202, 202], JSON.stringify([first.body, second.body]));
    assert.equal(replays([first, second]), 1);
    assert.equal(sagaStarts(id), 1);
    const unkeyed = await http('POST', `/api/orders/${id}/payment`, {}, { prefer: 'respond-async' });
    assert.deepEqual([unkeyed.status, unkeyed.body.code], [409, 'ORDER_NOT_PAYABLE']);
    await command('FailOrder', { orderId: id, code: 'INSUFFICIENT_FUNDS', reason: `insufficient funds for order ${id}` });
    await eventually(async () => assert.equal(await statusOf(id), 'FAILED'));
    const after = await http('POST', `/api/orders/${id}/payment`, {}, headers);
    assert.deepEqual([after.status, after.body.code, after.headers.get('idempotent-replayed')], [402, 'INSUFFICIENT_FUNDS', 'true']);
    assert.equal(sagaStarts(id), 1);
    // The key names this payment: paying another order with it is a 422.
    const other = await http('POST', '/api/orders', orderFor(customerId), {});
    const reused = await http('POST', `/api/orders/${other.body.id}/payment`, {}, headers);
    assert.deepEqual([reused.status, reused.body.code], [422, 'IDEMPOTENCY_KEY_REUSED']);
  });

  it('forgets a key after its time: an expired key is a new request, and the expiry round removes it', async () => {
    const customerId = newCustomer();
    const first = await http('POST', '/api/orders', orderFor(customerId), { 'idempotency-key': 'old' });
    await db.query(`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE customer_id = $1`, [customerId]);
    const fresh = await http('POST', '/api/orders', orderFor(customerId, 2), { 'idempotency-key': 'old' });
    assert.equal(fresh.status, 201);
    assert.notEqual(fresh.body.id, first.body.id);
    assert.equal(fresh.headers.get('idempotent-replayed'), null);
    await db.query(`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE customer_id = $1`, [customerId]);
    assert.ok((await new OrderRepository().deleteExpiredIdempotencyKeys(db, 1_000)) >= 1);
    assert.equal((await db.query('SELECT 1 FROM idempotency_keys WHERE customer_id = $1', [customerId])).rows.length, 0);
  });
});
