import 'reflect-metadata';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { dlqTopic, type Envelope, type MessageType, type PayloadOf } from '@saga/contracts';
import { InMemoryBroker, KafkaBroker, newEnvelope, toTopic, type MessageBroker, type Subscription } from '@saga/messaging';
import { brokerList, createLogger, loadConfig, openServiceDatabase } from '@saga/nest-kit';
import { dropDatabase, type Database } from '@saga/postgres';
import { createPrivateTopics, eventually } from '@saga/testing';
import { startPayment, type RunningPayment } from './payment.app';
import { PaymentEnvSchema } from './payment.config';
import { startFaultyProxy, startWalletProcess } from './wallet-process.test-support';

const run = Math.random().toString(36).slice(2, 10);
const walletDb = `it_payment_wallet_${run}`;
const baseEnv = {
  ...process.env,
  PORT: '0',
  DB_NAME: `it_payment_${run}`,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
  KAFKA_GROUP_ID: `it-payment-${run}`,
  COMMANDS_TOPIC: `it-payment-commands-${run}`,
  REPLIES_TOPIC: `it-payment-replies-${run}`,
  EVENTS_TOPIC: `it-payment-events-${run}`,
  // Generous per-try timeout: the shared test machine can be slow; failures below are injected.
  WALLET_TIMEOUT_MS: '2000',
  WALLET_MAX_ATTEMPTS: '3',
  WALLET_TOTAL_TIMEOUT_MS: '5000',
  WALLET_BACKOFF_MS: '20',
  RECONCILE_INTERVAL_MS: '100',
  WALLET_HOLD_MS: '1000',
};

// IT_BROKER=memory runs the same checks on the in-process broker (quick loop without Kafka); the title says which.
const inMemory = process.env.IT_BROKER === 'memory';

describe(`payment service (real PostgreSQL + ${inMemory ? 'in-memory broker' : 'real Kafka'} + wallet process)`, () => {
  const env0 = loadConfig(PaymentEnvSchema, baseEnv);
  const logger = createLogger('payment', env0.LOG_LEVEL);
  const broker: MessageBroker = inMemory
    ? new InMemoryBroker()
    : new KafkaBroker({ brokers: brokerList(env0.KAFKA_BROKERS), clientId: `it-payment-${run}`, logger });
  const received: Envelope[] = [];
  const events: Envelope[] = [];
  let deleteTopics: () => Promise<void> = async () => undefined;
  let listen: Subscription;
  let wallet: Awaited<ReturnType<typeof startWalletProcess>>;
  let proxy: Awaited<ReturnType<typeof startFaultyProxy>>;
  let payment: RunningPayment;
  let db: Database;
  let base: string;

  before(async () => {
    if (!inMemory) {
      deleteTopics = await createPrivateTopics(brokerList(env0.KAFKA_BROKERS), [
        env0.COMMANDS_TOPIC,
        dlqTopic(env0.COMMANDS_TOPIC),
        env0.REPLIES_TOPIC,
        env0.EVENTS_TOPIC,
      ]);
    }
    listen = await broker.subscribe({
      groupId: `it-payment-listener-${run}`,
      topics: [env0.REPLIES_TOPIC, env0.EVENTS_TOPIC],
      handler: async (batch) => {
        for (const m of batch) (m.topic === env0.EVENTS_TOPIC ? events : received).push(m.envelope);
      },
    });
    await listen.ready;
    wallet = await startWalletProcess(walletDb);
    proxy = await startFaultyProxy(wallet.url);
    db = await openServiceDatabase({ serverUrl: env0.DATABASE_URL, name: env0.DB_NAME });
    payment = await startPayment({ env: loadConfig(PaymentEnvSchema, { ...baseEnv, WALLET_URL: proxy.url }), logger, db, broker });
    base = `http://127.0.0.1:${(payment.app.getHttpServer().address() as AddressInfo).port}`;
  });
  after(async () => {
    await payment?.stop();
    await db?.close();
    await listen?.close();
    await broker.close();
    await proxy?.close();
    await wallet?.stop();
    await dropDatabase(env0.DATABASE_URL, env0.DB_NAME);
    await dropDatabase(env0.DATABASE_URL, walletDb);
    await deleteTopics();
  });

  const command = <T extends MessageType>(type: T, payload: PayloadOf<T> & { orderId: string }) =>
    newEnvelope(type, payload, { sagaId: payload.orderId });
  const send = (...envelopes: Envelope[]) => broker.producer().send(envelopes.map((e) => toTopic(env0.COMMANDS_TOPIC, e)));
  const replyTo = (cmd: Envelope, timeoutMs = 15_000) =>
    eventually(
      () => {
        const found = received.filter((r) => r.causationId === cmd.id);
        assert.equal(found.length, 1, `one reply to ${cmd.type} of ${cmd.sagaId}`);
        return found[0];
      },
      { timeoutMs },
    );
  const balance = async (customerId: string) => ((await (await fetch(`${wallet.url}/api/wallets/${customerId}`)).json()) as { balance: number }).balance;
  const walletLedger = async (customerId: string) =>
    ((await (await fetch(`${wallet.url}/api/wallets/${customerId}/transactions?sort=desc&limit=200`)).json()) as { items: { type: string; reference: string }[] }).items;
  const ledger = async (orderId: string) => ((await (await fetch(`${base}/api/payments?orderId=${orderId}`)).json()) as { items: any[] }).items;
  const newCustomer = async (amount: number) => {
    const customerId = `IT_${Math.random().toString(36).slice(2, 10)}`;
    const res = await fetch(`${wallet.url}/internal/wallets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customerId, balance: amount }),
    });
    assert.equal(res.status, 201);
    return customerId;
  };
  const ids = () => {
    const orderId = `it-order-${Math.random().toString(36).slice(2, 10)}`;
    return { orderId, paymentId: `pay-${orderId}` };
  };

  it('takes a payment once, replies, publishes the event and shows the ledger', async () => {
    const { orderId, paymentId } = ids();
    const cmd = command('ProcessPayment', { orderId, paymentId, customerId: 'CUS_0001', amountCents: 99_999, currency: 'USD' });
    await send(cmd, cmd); // the duplicate copy has no effect
    const answer = await replyTo(cmd);
    assert.equal(answer.type, 'PaymentCompleted');
    assert.deepEqual(answer.payload, { orderId, paymentId, attempts: 1 });
    assert.equal(answer.sagaId, orderId);
    const event = await eventually(() => {
      const found = events.filter((e) => e.sagaId === orderId);
      assert.equal(found.length, 1);
      return found[0];
    });
    assert.equal(event.type, 'PaymentCompleted');
    assert.equal(await balance('CUS_0001'), 4000.01);

    // Re-sent after a timeout (new message id): same answer, no second debit.
    const resent = command('ProcessPayment', { orderId, paymentId, customerId: 'CUS_0001', amountCents: 99_999, currency: 'USD' });
    const before = proxy.requests();
    await send(resent);
    assert.deepEqual((await replyTo(resent)).payload, { orderId, paymentId, attempts: 1 });
    assert.equal(proxy.requests(), before, 'the wallet was not called again');
    assert.equal(await balance('CUS_0001'), 4000.01);

    const rows = await ledger(orderId);
    assert.equal(rows.length, 1);
    assert.deepEqual(
      { type: rows[0].type, status: rows[0].status, amount: rows[0].amount, currency: rows[0].currency, paymentId: rows[0].paymentId },
      { type: 'PAYMENT', status: 'COMPLETED', amount: 999.99, currency: 'USD', paymentId },
    );
    assert.ok(Date.parse(rows[0].createdAt) > 0);
    const bad = await fetch(`${base}/api/payments`);
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { code: 'VALIDATION_FAILED', message: 'orderId: is required', field: 'orderId' });
  });

  it('fails with INSUFFICIENT_FUNDS and UNKNOWN_CUSTOMER', async () => {
    const poor = ids();
    const laptop = command('ProcessPayment', { ...poor, customerId: 'CUS_0004', amountCents: 99_999, currency: 'USD' });
    const nobody = ids();
    const ghost = command('ProcessPayment', { ...nobody, customerId: 'NOBODY', amountCents: 100, currency: 'USD' });
    await send(laptop, ghost);
    const a = await replyTo(laptop);
    assert.equal(a.type, 'PaymentFailed');
    assert.equal((a.payload as { code: string }).code, 'INSUFFICIENT_FUNDS');
    assert.match((a.payload as { reason: string }).reason, /insufficient funds/);
    assert.equal(((await replyTo(ghost)).payload as { code: string }).code, 'UNKNOWN_CUSTOMER');
    assert.equal(await balance('CUS_0004'), 100);
    assert.deepEqual((await ledger(poor.orderId)).map((r) => [r.type, r.status]), [['PAYMENT', 'FAILED']]);
  });

  it('refunds once, and leaves a tombstone when the refund comes before the payment', async () => {
    const c = await newCustomer(100);
    const o = ids();
    const pay = command('ProcessPayment', { ...o, customerId: c, amountCents: 2_500, currency: 'USD' });
    const refund = command('RefundPayment', o);
    const refundAgain = command('RefundPayment', o);
    await send(pay, refund, refundAgain);
    assert.equal((await replyTo(pay)).type, 'PaymentCompleted');
    assert.equal((await replyTo(refund)).type, 'PaymentRefunded');
    assert.equal((await replyTo(refundAgain)).type, 'PaymentRefunded');
    assert.equal(await balance(c), 100);
    assert.deepEqual((await walletLedger(c)).map((t) => t.type), ['REFUND', 'DEBIT', 'DEPOSIT']);
    assert.deepEqual((await ledger(o.orderId)).map((r) => [r.type, r.status]), [['PAYMENT', 'COMPLETED'], ['REFUND', 'COMPLETED']]);
    await eventually(() => assert.deepEqual(events.filter((e) => e.sagaId === o.orderId).map((e) => e.type), ['PaymentCompleted', 'PaymentRefunded']));

    const early = ids();
    const compensation = command('RefundPayment', early);
    await send(compensation);
    assert.equal((await replyTo(compensation)).type, 'PaymentRefunded');
    const late = command('ProcessPayment', { ...early, customerId: c, amountCents: 1_000, currency: 'USD' });
    await send(late);
    const answer = await replyTo(late);
    assert.equal(answer.type, 'PaymentFailed');
    assert.equal((answer.payload as { code: string }).code, 'CONFLICT');
    assert.equal(await balance(c), 100);
  });

  it('retries a flaky wallet and reports the attempts', async () => {
    const c = await newCustomer(50);
    const o = ids();
    proxy.failNext(1);
    const pay = command('ProcessPayment', { ...o, customerId: c, amountCents: 1_000, currency: 'USD' });
    await send(pay);
    assert.deepEqual((await replyTo(pay)).payload, { ...o, attempts: 2 });
    assert.equal(await balance(c), 40);
  });

  it('fails with WALLET_UNAVAILABLE when the wallet is down, and reverses the unknown debit later', async () => {
    const c = await newCustomer(50);
    const down = ids();
    proxy.setMode('refuse');
    const pay = command('ProcessPayment', { ...down, customerId: c, amountCents: 1_000, currency: 'USD' });
    await send(pay);
    const answer = await replyTo(pay);
    assert.equal(answer.type, 'PaymentFailed');
    assert.equal((answer.payload as { code: string }).code, 'WALLET_UNAVAILABLE');
    assert.equal((answer.payload as { attempts: number }).attempts, 3);
    assert.match((answer.payload as { reason: string }).reason, /wallet unavailable after 3 attempts/);

    // Worse: the wallet takes the money but every answer is lost.
    const lost = ids();
    proxy.setMode('drop-response');
    const pay2 = command('ProcessPayment', { ...lost, customerId: c, amountCents: 2_000, currency: 'USD' });
    await send(pay2);
    assert.equal(((await replyTo(pay2)).payload as { code: string }).code, 'WALLET_UNAVAILABLE');
    assert.equal(await balance(c), 30, 'the lost debit was applied');
    assert.equal(await payment.db.query('SELECT 1 FROM pending_reversals').then((r) => r.rows.length), 2);

    // The wallet comes back: the reconciler settles both, the applied one is refunded.
    proxy.setMode('pass');
    await eventually(async () => assert.equal((await payment.db.query('SELECT 1 FROM pending_reversals')).rows.length, 0), { timeoutMs: 20_000 });
    assert.equal(await balance(c), 50);
    const walletTypes = (await walletLedger(c)).map((t) => [t.type, t.reference]);
    assert.deepEqual(walletTypes, [['REFUND', lost.paymentId], ['DEBIT', lost.paymentId], ['DEPOSIT', null]]);
    // The first debit can never be applied late: the wallet holds a tombstone for it.
    const late = await fetch(`${wallet.url}/internal/debits`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ paymentId: down.paymentId, customerId: c, amountCents: 1_000, currency: 'USD' }),
    });
    assert.equal(late.status, 409);
  });

  /** A payment of a new customer (balance 100) whose debits the wallet holds: sent, and seen parked. */
  const parkedPayment = async (amountCents: number) => {
    const customer = await newCustomer(100);
    proxy.holdWhere(customer);
    const order = ids();
    const pay = command('ProcessPayment', { ...order, customerId: customer, amountCents, currency: 'USD' });
    await send(pay);
    // Past the consumer's hold (1 s) the payment is parked and the consumer moves on.
    await eventually(async () => assert.equal((await payment.db.query(`SELECT status FROM payments WHERE order_id = $1`, [order.orderId])).rows[0]?.status, 'PENDING'));
    return { customer, order, pay };
  };

  it('parks a payment the wallet is slow on: the payments after it go on, it completes once the wallet answers', async () => {
    const { customer: slowCustomer, order: slow, pay: slowPay } = await parkedPayment(1_000);
    const fastCustomer = await newCustomer(100);
    const fast = Array.from({ length: 5 }, () => ids());
    const fastPays = fast.map((o) => command('ProcessPayment', { ...o, customerId: fastCustomer, amountCents: 500, currency: 'USD' }));
    await send(...fastPays);
    for (const p of fastPays) assert.equal((await replyTo(p)).type, 'PaymentCompleted');
    assert.equal(received.filter((r) => r.causationId === slowPay.id).length, 0, 'the slow payment is still waiting for its wallet');
    assert.ok(proxy.held() >= 1, 'its debit is still held at the wallet');
    // A repeat of the parked command (the orchestrator re-sends) neither replies nor debits twice.
    const resent = command('ProcessPayment', { ...slow, customerId: slowCustomer, amountCents: 1_000, currency: 'USD' });
    await send(resent);
    await eventually(async () => assert.equal((await payment.db.query(`SELECT 1 FROM inbox WHERE message_id = $1`, [resent.id])).rows.length, 1));
    assert.equal(received.filter((r) => r.causationId === resent.id).length, 0, 'no answer while parked');

    proxy.release();
    const answer = await replyTo(slowPay, 20_000);
    assert.equal(answer.type, 'PaymentCompleted');
    assert.equal(answer.sagaId, slow.orderId);
    await eventually(() => assert.equal(events.filter((e) => e.sagaId === slow.orderId && e.type === 'PaymentCompleted').length, 1));
    assert.equal(await balance(slowCustomer), 90, 'debited once');
    assert.equal(await balance(fastCustomer), 75);
    assert.deepEqual((await ledger(slow.orderId)).map((r) => [r.type, r.status]), [['PAYMENT', 'COMPLETED']]);
  });

  it('finishes a parked payment after a restart, once the busy wallet answers', async () => {
    const { customer: c, order: o, pay } = await parkedPayment(2_000);
    // Stopped while the debit is out: every try times out (busy), so the payment stays parked.
    await payment.stop();
    const row = (await db.query<{ status: string; last_error: string | null }>(`SELECT status, last_error FROM payments WHERE order_id = $1`, [o.orderId])).rows[0];
    assert.equal(row.status, 'PENDING');
    assert.match(row.last_error ?? '', /timed out|no answer/);
    assert.equal(received.filter((r) => r.causationId === pay.id).length, 0);

    payment = await startPayment({ env: loadConfig(PaymentEnvSchema, { ...baseEnv, WALLET_URL: proxy.url }), logger, db, broker });
    base = `http://127.0.0.1:${(payment.app.getHttpServer().address() as AddressInfo).port}`;
    proxy.release();
    const answer = await replyTo(pay, 30_000);
    assert.equal(answer.type, 'PaymentCompleted');
    assert.equal(await balance(c), 80, 'debited once, though the wallet got the debit several times');
  });

  it('handles a burst of payments with one debit each, money conserved', async () => {
    const c = await newCustomer(1_000);
    const orders = Array.from({ length: 100 }, () => ids());
    const commands = orders.map((o) => command('ProcessPayment', { ...o, customerId: c, amountCents: 500, currency: 'USD' }));
    await send(...commands, ...commands.slice(0, 20));
    const answers = await eventually(
      () => {
        const got = received.filter((r) => commands.some((cmd) => cmd.id === r.causationId));
        assert.equal(got.length, 100);
        return got;
      },
      { timeoutMs: 30_000 },
    );
    // Normally all complete; on a starved machine a wallet call may time out (WALLET_UNAVAILABLE),
    // and then its possible debit is reversed by the reconciler. Either way money is conserved.
    const completed = answers.filter((a) => a.type === 'PaymentCompleted').length;
    const unavailable = answers.filter((a) => (a.payload as { code?: string }).code === 'WALLET_UNAVAILABLE').length;
    assert.equal(completed + unavailable, 100);
    await eventually(async () => assert.equal((await payment.db.query('SELECT 1 FROM pending_reversals')).rows.length, 0), { timeoutMs: 20_000 });
    assert.equal(await balance(c), 1_000 - 5 * completed);
    const txs = await walletLedger(c);
    const net = txs.filter((t) => t.type === 'DEBIT').length - txs.filter((t) => t.type === 'REFUND').length;
    assert.equal(net, completed);
  });
});
