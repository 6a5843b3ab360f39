/**
 * The wallet is down while an order is paid: the payment service retries the wallet a bounded number
 * of times with backoff, then the payment fails with WALLET_UNAVAILABLE, the saga compensates, the
 * order is FAILED with status info and the client gets a 503. Nothing is debited (the payment owes a
 * reverse-if-applied, settled once the wallet is back), and a new order succeeds after the restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, get, post } from './http.ts';
import { available, balance, createProduct, createWallet, queryService, serviceLog, startTestStack, WALLET_MAX_ATTEMPTS, WALLET_RETRY_ENV, type TestStack } from './support.ts';


describe('wallet outage (e2e): bounded retries, WALLET_UNAVAILABLE, compensation, recovery', () => {
  let stack: TestStack;
  let orders: string;
  const tag = Date.now().toString(36).toUpperCase();
  const product = `PWO_${tag}`;
  const customer = `CWO_${tag}`;

  before(async () => {
    stack = await startTestStack('wallet', WALLET_RETRY_ENV);
    orders = stack.url('order');
    await createProduct(stack, product, 25, 10);
    await createWallet(stack, customer, 100);
  });
  after(async () => {
    await stack?.stop();
  });

  let failedOrderId: string;

  it('answers 503 WALLET_UNAVAILABLE after bounded retries while the wallet is down; the order is FAILED with status info', async () => {
    const created = await post(`${orders}/api/orders`, { customerId: customer, orderItems: [{ productId: product, quantity: 2 }] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    failedOrderId = created.body.id;

    await stack.stopService('wallet');
    const t0 = Date.now();
    const paid = await post(`${orders}/api/orders/${failedOrderId}/payment`);
    const tookMs = Date.now() - t0;
    assert.equal(paid.status, 503, JSON.stringify(paid.body));
    assert.equal(paid.body.code, 'WALLET_UNAVAILABLE');
    assert.match(paid.body.message, new RegExp(`wallet unavailable after ${WALLET_MAX_ATTEMPTS} attempts`));
    assert.ok(tookMs < 10_000, `the bounded retries answered in ${tookMs} ms`);

    const order = await get(`${orders}/api/orders/${failedOrderId}`);
    assert.equal(order.body.status, 'FAILED');
    assert.match(order.body.statusInfo, new RegExp(`wallet unavailable after ${WALLET_MAX_ATTEMPTS} attempts`));
    assert.deepEqual(
      order.body.statusHistory.map((h: { status: string }) => h.status),
      ['INITIATED', 'PAYMENT_PENDING', 'FAILED'],
    );
    // The reservation was compensated: the stock is back.
    assert.equal(await available(stack, product), 10);
  });

  it('records the failure: ledger row FAILED, saga COMPENSATED with the payment failure and its attempt count, retries in the payment log', async () => {
    const ledger = await get(`${stack.url('payment')}/api/payments?orderId=${failedOrderId}`);
    assert.equal(ledger.status, 200);
    assert.deepEqual(
      ledger.body.items.map((p: { type: string; status: string; amount: number }) => [p.type, p.status, p.amount]),
      [['PAYMENT', 'FAILED', 50]],
    );
    assert.match(ledger.body.items[0].description, new RegExp(`after ${WALLET_MAX_ATTEMPTS} attempts`));

    const saga = await eventually(async () => {
      const res = await get(`${stack.url('orchestrator')}/api/sagas/${failedOrderId}`);
      return res.status === 200 && res.body.status === 'COMPENSATED' ? res.body : undefined;
    });
    assert.equal(saga.failure.code, 'WALLET_UNAVAILABLE');
    assert.equal(saga.failure.step, 'processPayment');
    assert.match(saga.failure.reason, new RegExp(`after ${WALLET_MAX_ATTEMPTS} attempts`));
    const events = saga.history.map((h: { step: string; event: string }) => `${h.step}:${h.event}`);
    assert.ok(events.includes('processPayment:STEP_FAILED'), events.join(', '));
    const failedAt = saga.history.find((h: { event: string }) => h.event === 'STEP_FAILED');
    assert.equal(failedAt.detail.code, 'WALLET_UNAVAILABLE');
    assert.match(failedAt.detail.reason, new RegExp(`after ${WALLET_MAX_ATTEMPTS} attempts`));
    const reply = saga.history.find((h: { step: string; event: string }) => h.step === 'processPayment' && h.event === 'REPLY');
    assert.equal(reply.detail.type, 'PaymentFailed');
    // Compensated in reverse: the stock released, then the order failed.
    const compensated = saga.history.filter((h: { event: string }) => h.event === 'COMPENSATION_REPLY').map((h: { step: string }) => h.step);
    assert.deepEqual(compensated, ['reserveStock', 'markPaymentPending']);
    const payStep = saga.steps.find((s: { name: string }) => s.name === 'processPayment');
    assert.equal(payStep.state, 'FAILED');

    // Every try but the last is followed by a logged retry, then the bound is logged.
    const lines = await eventually(() => {
      const mine = serviceLog(stack, 'payment').filter((l) => l.orderId === failedOrderId && l.op === 'debit');
      return mine.some((l) => l.msg === 'wallet unavailable') ? mine : undefined;
    });
    const retries = lines.filter((l) => l.msg === 'wallet call failed; retrying');
    assert.equal(retries.length, WALLET_MAX_ATTEMPTS - 1, JSON.stringify(lines));
    assert.ok(retries.every((l) => typeof l.delayMs === 'number' && l.delayMs >= 0));
    assert.equal(lines.find((l) => l.msg === 'wallet unavailable')!.attempts, WALLET_MAX_ATTEMPTS);
  });

  it('debited nothing: once the wallet is back the balance is unchanged and the owed reversal is settled', async () => {
    await stack.startService('wallet');
    assert.equal(await balance(stack, customer), 100);
    const tx = await get(`${stack.url('wallet')}/api/wallets/${customer}/transactions`);
    assert.equal(tx.status, 200);
    assert.deepEqual(
      tx.body.items.map((t: { type: string }) => t.type),
      ['DEPOSIT'],
    );
    // The debit's outcome was unknown to the payment service: it owed a reverse-if-applied, which
    // the reconciler settles (nothing to reverse) as soon as the wallet answers.
    await eventually(
      async () => (await queryService(stack, 'payment', 'SELECT 1 FROM pending_reversals WHERE order_id = $1', [failedOrderId])).length === 0,
      30_000,
      200,
    );
    const settled = serviceLog(stack, 'payment').find((l) => l.orderId === failedOrderId && l.msg === 'wallet reversal settled');
    assert.equal(settled?.outcome, 'NOTHING_TO_REVERSE');
    assert.equal(await balance(stack, customer), 100);
  });

  it('places a new order once the wallet is back', async () => {
    const placed = await post(`${orders}/orders`, { customerId: customer, orderItems: [{ productId: product, quantity: 1, totalPrice: 25 }] });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    assert.equal(placed.body.status, 'PLACED');
    assert.equal(await balance(stack, customer), 75);
    assert.equal(await available(stack, product), 9);
  });

  it('leaves the services consistent (invariants I1–I6)', async () => {
    const result = await stack.settleAndCheck();
    assert.deepEqual(result.violations, []);
    assert.equal(result.counts.completed, 1, JSON.stringify(result.counts));
    assert.equal(result.counts.compensated, 1, JSON.stringify(result.counts));
  });
});
