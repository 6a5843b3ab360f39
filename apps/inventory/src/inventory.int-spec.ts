import 'reflect-metadata';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { dlqTopic, type Envelope, type MessageType, type PayloadOf } from '@saga/contracts';
import { InMemoryBroker, KafkaBroker, newEnvelope, toTopic, type MessageBroker, type Subscription } from '@saga/messaging';
import { brokerList, createLogger, loadConfig, openServiceDatabase } from '@saga/nest-kit';
import { dropDatabase, type Database } from '@saga/postgres';
import { startInventory, type RunningInventory } from './inventory.app';
import { InventoryEnvSchema } from './inventory.config';
import { createPrivateTopics, eventually } from '@saga/testing';

const run = Math.random().toString(36).slice(2, 10);
const env = loadConfig(InventoryEnvSchema, {
  ...process.env,
  PORT: '0',
  DB_NAME: `it_inventory_${run}`,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
  KAFKA_GROUP_ID: `it-inventory-${run}`,
  COMMANDS_TOPIC: `it-inventory-commands-${run}`,
  REPLIES_TOPIC: `it-inventory-replies-${run}`,
});

// IT_BROKER=memory runs the same checks on the in-process broker (quick loop without Kafka); the title says which.
const inMemory = process.env.IT_BROKER === 'memory';

describe(`inventory service (real PostgreSQL + ${inMemory ? 'in-memory broker' : 'real Kafka'})`, () => {
  const logger = createLogger('inventory', env.LOG_LEVEL);
  const broker: MessageBroker = inMemory
    ? new InMemoryBroker()
    : new KafkaBroker({ brokers: brokerList(env.KAFKA_BROKERS), clientId: `it-inventory-${run}`, logger });
  const replies: Envelope[] = [];
  let deleteTopics: () => Promise<void>;
  let repliesSub: Subscription;
  let inventory: RunningInventory;
  let db: Database;
  let base: string;

  before(async () => {
    const topics = [env.COMMANDS_TOPIC, dlqTopic(env.COMMANDS_TOPIC), env.REPLIES_TOPIC];
    deleteTopics = inMemory ? async () => undefined : await createPrivateTopics(brokerList(env.KAFKA_BROKERS), topics);
    repliesSub = await broker.subscribe({
      groupId: `it-inventory-replies-${run}`,
      topics: [env.REPLIES_TOPIC],
      handler: async (batch) => void replies.push(...batch.map((m) => m.envelope)),
    });
    await repliesSub.ready;
    db = await openServiceDatabase({ serverUrl: env.DATABASE_URL, name: env.DB_NAME });
    inventory = await startInventory({ env, logger, db, broker });
    base = `http://127.0.0.1:${(inventory.app.getHttpServer().address() as AddressInfo).port}`;
  });
  after(async () => {
    await inventory?.stop();
    await db?.close();
    await repliesSub?.close();
    await broker.close();
    await dropDatabase(env.DATABASE_URL, env.DB_NAME);
    await deleteTopics?.();
  });

  const http = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const command = <T extends MessageType>(type: T, payload: PayloadOf<T> & { orderId: string }) =>
    newEnvelope(type, payload, { sagaId: payload.orderId });
  const send = (...envelopes: Envelope[]) => broker.producer().send(envelopes.map((e) => toTopic(env.COMMANDS_TOPIC, e)));
  const replyTo = (cmd: Envelope) =>
    eventually(() => {
      const found = replies.filter((r) => r.causationId === cmd.id);
      assert.equal(found.length, 1, `one reply to ${cmd.type} of ${cmd.sagaId}`);
      return found[0];
    });
  const stock = async (id: string) =>
    (await inventory.db.query<{ available: number; reserved: number; sold: number }>('SELECT available, reserved, sold FROM products WHERE id = $1', [id])).rows[0];
  const newProduct = async (available: number) => {
    const id = `IT_${Math.random().toString(36).slice(2, 10)}`;
    const res = await http('POST', '/internal/products', { id, name: 'test product', type: 'TEST', price: 12.5, available });
    assert.equal(res.status, 201);
    return id;
  };
  const order = () => `it-order-${Math.random().toString(36).slice(2, 10)}`;

  it('serves the seed catalog and creates products', async () => {
    assert.deepEqual(await http('GET', '/health'), {
      status: 200,
      body: { status: 'ok', service: 'inventory', checks: { db: 'ok', consumer: 'ok', outbox: 'ok' } },
    });
    const list = await http('GET', '/api/products');
    assert.equal(list.body.length, 10);
    assert.deepEqual(list.body[0], { id: 'P001', name: 'Laptop', type: 'ELECTRONICS', price: 999.99, available: 1 });
    assert.deepEqual(list.body[9], { id: 'P010', name: 'Fitness Tracker', type: 'WEARABLES', price: 79.99, available: 55 });
    assert.deepEqual((await http('GET', '/api/products/P004')).body, { id: 'P004', name: 'Smartwatch', type: 'WEARABLES', price: 129.99, available: 30 });
    const missing = await http('GET', '/api/products/NOPE');
    assert.deepEqual([missing.status, missing.body.code], [404, 'NOT_FOUND']);
    const id = await newProduct(3);
    assert.equal((await http('POST', '/internal/products', { id, name: 'again', type: 'TEST', price: 1, available: 1 })).status, 409);
    const bad = await http('POST', '/internal/products', { id: 'X', name: 'x', type: 'T', price: -1, available: 1 });
    assert.deepEqual([bad.status, bad.body.field], [400, 'price']);
  });

  it('reserves the only laptop once: the second order gets "P001 is not available"', async () => {
    const [a, b] = [order(), order()];
    const first = command('ReserveStock', { orderId: a, items: [{ productId: 'P001', quantity: 1 }] });
    await send(first);
    assert.deepEqual((await replyTo(first)).payload, { orderId: a });
    assert.equal((await replyTo(first)).type, 'StockReserved');
    const second = command('ReserveStock', { orderId: b, items: [{ productId: 'P001', quantity: 1 }] });
    await send(second);
    const failed = await replyTo(second);
    assert.equal(failed.type, 'StockReservationFailed');
    assert.deepEqual(failed.payload, { orderId: b, code: 'OUT_OF_STOCK', reason: 'P001 is not available' });
    assert.equal(failed.sagaId, b);
    assert.deepEqual(await stock('P001'), { available: 0, reserved: 1, sold: 0 });
    assert.equal((await http('GET', '/api/products/P001')).body.available, 0);

    // Releasing gives it back, once.
    const release = command('ReleaseStock', { orderId: a });
    const releaseAgain = command('ReleaseStock', { orderId: a });
    await send(release, releaseAgain);
    assert.equal((await replyTo(release)).type, 'StockReleased');
    assert.equal((await replyTo(releaseAgain)).type, 'StockReleased');
    assert.deepEqual(await stock('P001'), { available: 1, reserved: 0, sold: 0 });
  });

  it('has one effect for a duplicated message and answers a re-sent command with the first outcome', async () => {
    const p = await newProduct(10);
    const o = order();
    const cmd = command('ReserveStock', { orderId: o, items: [{ productId: p, quantity: 4 }] });
    await send(cmd, cmd); // same message id twice: the inbox drops the copy
    const resent = command('ReserveStock', { orderId: o, items: [{ productId: p, quantity: 4 }] }); // new id, same order
    await send(resent);
    assert.equal((await replyTo(cmd)).type, 'StockReserved');
    assert.equal((await replyTo(resent)).type, 'StockReserved');
    assert.deepEqual(await stock(p), { available: 6, reserved: 4, sold: 0 });

    const failing = order();
    const tooMany = command('ReserveStock', { orderId: failing, items: [{ productId: p, quantity: 7 }] });
    await send(tooMany);
    assert.equal((await replyTo(tooMany)).type, 'StockReservationFailed');
    // Stock freed meanwhile does not change a recorded refusal.
    const release = command('ReleaseStock', { orderId: o });
    await send(release);
    await replyTo(release);
    const tooManyAgain = command('ReserveStock', { orderId: failing, items: [{ productId: p, quantity: 7 }] });
    await send(tooManyAgain);
    assert.deepEqual((await replyTo(tooManyAgain)).payload, { orderId: failing, code: 'OUT_OF_STOCK', reason: `${p} is not available` });
    assert.deepEqual(await stock(p), { available: 10, reserved: 0, sold: 0 });
    const count = replies.filter((r) => r.causationId === cmd.id).length;
    assert.equal(count, 1);
  });

  it('commits reserved stock once, and refuses unknown products', async () => {
    const p = await newProduct(5);
    const o = order();
    const reserve = command('ReserveStock', { orderId: o, items: [{ productId: p, quantity: 2 }] });
    const commit = command('CommitStock', { orderId: o });
    const commitAgain = command('CommitStock', { orderId: o });
    await send(reserve, commit, commitAgain);
    assert.equal((await replyTo(reserve)).type, 'StockReserved');
    assert.equal((await replyTo(commit)).type, 'StockCommitted');
    assert.equal((await replyTo(commitAgain)).type, 'StockCommitted');
    assert.deepEqual(await stock(p), { available: 3, reserved: 0, sold: 2 });

    const ghost = command('ReserveStock', { orderId: order(), items: [{ productId: p, quantity: 1 }, { productId: 'GHOST', quantity: 1 }] });
    await send(ghost);
    assert.deepEqual((await replyTo(ghost)).payload, { orderId: ghost.sagaId, code: 'UNKNOWN_PRODUCT', reason: 'GHOST does not exist' });
    assert.deepEqual(await stock(p), { available: 3, reserved: 0, sold: 2 });
  });

  it('leaves a tombstone when ReleaseStock comes first: the late ReserveStock holds nothing', async () => {
    const p = await newProduct(5);
    const o = order();
    const release = command('ReleaseStock', { orderId: o });
    await send(release);
    assert.equal((await replyTo(release)).type, 'StockReleased');
    const late = command('ReserveStock', { orderId: o, items: [{ productId: p, quantity: 1 }] });
    await send(late);
    const answer = await replyTo(late);
    assert.equal(answer.type, 'StockReservationFailed');
    assert.equal((answer.payload as { code: string }).code, 'CONFLICT');
    assert.deepEqual(await stock(p), { available: 5, reserved: 0, sold: 0 });
  });

  it('keeps stock conserved and never negative under a burst of competing orders', async () => {
    const p = await newProduct(150);
    const commands = Array.from({ length: 200 }, () => {
      const o = order();
      return command('ReserveStock', { orderId: o, items: [{ productId: p, quantity: 1 }] });
    });
    await send(...commands);
    const answers = await eventually(
      () => {
        const got = replies.filter((r) => commands.some((c) => c.id === r.causationId));
        assert.equal(got.length, 200);
        return got;
      },
      { timeoutMs: 30_000 },
    );
    assert.equal(answers.filter((a) => a.type === 'StockReserved').length, 150);
    assert.equal(answers.filter((a) => a.type === 'StockReservationFailed').length, 50);
    assert.deepEqual(await stock(p), { available: 0, reserved: 150, sold: 0 });
  });
});
