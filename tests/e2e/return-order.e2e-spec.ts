/**
 * The return saga end to end: a PLACED order returned through the gateway becomes RETURNED with its
 * payment refunded to the wallet and its units back in stock; a return once the order is ON_WAY is a
 * 409; with the wallet stopped the payment service retries the refund a bounded number of times, the
 * refund is refused, the saga compensates and the order is PLACED again, the failure surfaced to the
 * client (503 WALLET_UNAVAILABLE), in the order's status info and in the operator view; once the
 * wallet is back the same order can be returned. The invariants (returns included) hold at the end.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, get, request, signIn, type Client } from './http.ts';
import { available, balance, createProduct, createWallet, serviceLog, startTestStack, WALLET_MAX_ATTEMPTS, WALLET_RETRY_ENV, type TestStack } from './support.ts';


describe('return saga (e2e): PLACED → RETURNED, refund and restock; 409 once ON_WAY; wallet down → retried, then surfaced', () => {
  let stack: TestStack;
  let gw: string;
  let orders: string;
  let op: Client;
  const tag = Date.now().toString(36).toUpperCase();
  const product = `PRT_${tag}`;
  const customer = `CRT_${tag}`;

  before(async () => {
    stack = await startTestStack('return', WALLET_RETRY_ENV);
    gw = stack.url('gateway');
    orders = stack.url('order');
    op = await signIn(gw, 'operator');
    await createProduct(stack, product, 25, 10);
    await createWallet(stack, customer, 200);
  });
  after(async () => {
    await stack?.stop();
  });

  /** A PLACED order of 2 units (50.00), through the one-call flow on the order service. */
  async function placed(): Promise<string> {
    const res = await request('POST', `${orders}/orders`, { customerId: customer, orderItems: [{ productId: product, quantity: 2 }] });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'PLACED');
    return res.body.id;
  }

  async function returnSagaOf(orderId: string, status: string) {
    return eventually(async () => {
      const list = await op.get(`${gw}/api/sagas?type=ReturnOrder&limit=100`);
      assert.equal(list.status, 200, JSON.stringify(list.body));
      const mine = (list.body.items as { id: string; type: string; status: string }[]).filter((s) => s.type === 'ReturnOrder');
      for (const s of mine) {
        const saga = await op.get(`${gw}/api/sagas/${s.id}`);
        if (saga.body.data?.orderId === orderId && saga.body.status === status) return saga.body;
      }
      return undefined;
    });
  }

  it('returns a PLACED order: 200 RETURNED, the wallet refunded, the stock back, the saga in the operator view', async () => {
    const id = await placed();
    assert.equal(await balance(stack, customer), 150);
    assert.equal(await available(stack, product), 8);

    const res = await op.post(`${gw}/api/orders/${id}/return`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'RETURNED');
    assert.deepEqual(
      res.body.statusHistory.map((h: { status: string }) => h.status),
      ['INITIATED', 'PAYMENT_PENDING', 'PAYMENT_DONE', 'PLACED', 'RETURN_PENDING', 'RETURNED'],
    );
    assert.equal(await balance(stack, customer), 200);
    assert.equal(await available(stack, product), 10);

    const ledger = await get(`${stack.url('payment')}/api/payments?orderId=${id}`);
    assert.deepEqual(
      ledger.body.items.map((p: { type: string; status: string; amount: number }) => [p.type, p.status, p.amount]),
      [['PAYMENT', 'COMPLETED', 50], ['REFUND', 'COMPLETED', 50]],
    );
    const saga = await returnSagaOf(id, 'COMPLETED');
    assert.match(saga.id, /^ret_/);
    assert.deepEqual(saga.steps.map((s: { name: string; state: string }) => `${s.name}:${s.state}`), [
      'markReturnPending:SUCCEEDED',
      'issueRefund:SUCCEEDED',
      'returnStock:SUCCEEDED',
      'completeReturn:SUCCEEDED',
    ]);
    // The place-order saga of the order is untouched.
    assert.equal((await op.get(`${gw}/api/sagas/${id}`)).body.status, 'COMPLETED');

    const again = await op.post(`${gw}/api/orders/${id}/return`);
    assert.deepEqual([again.status, again.body.code], [409, 'ORDER_NOT_RETURNABLE']);
  });

  it('refuses the return once the order is ON_WAY (409), changing nothing', async () => {
    const id = await placed();
    const onWay = await op.request('PATCH', `${gw}/api/orders/${id}/status`, { status: 'ON_WAY' });
    assert.equal(onWay.status, 200, JSON.stringify(onWay.body));
    const res = await op.post(`${gw}/api/orders/${id}/return`);
    assert.deepEqual([res.status, res.body.code], [409, 'ORDER_NOT_RETURNABLE']);
    assert.match(res.body.message, /ON_WAY/);
    assert.equal((await get(`${orders}/api/orders/${id}`)).body.status, 'ON_WAY');
    assert.equal(await balance(stack, customer), 150);
  });

  it('wallet stopped during the refund: retried, then refused; the order PLACED again with the reason, 503 WALLET_UNAVAILABLE, saga COMPENSATED', async () => {
    const id = await placed();
    assert.equal(await balance(stack, customer), 100);
    await stack.stopService('wallet');
    const res = await op.post(`${gw}/api/orders/${id}/return`);
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.code, 'WALLET_UNAVAILABLE');
    assert.match(res.body.message, new RegExp(`wallet unavailable after ${WALLET_MAX_ATTEMPTS} attempts`));

    const order = (await get(`${orders}/api/orders/${id}`)).body;
    assert.equal(order.status, 'PLACED');
    assert.match(order.statusInfo, /^return failed: refund refused: wallet unavailable/);
    assert.deepEqual(order.statusHistory.map((h: { status: string }) => h.status).slice(-3), ['PLACED', 'RETURN_PENDING', 'PLACED']);

    const saga = await returnSagaOf(id, 'COMPENSATED');
    assert.deepEqual([saga.failure.code, saga.failure.step], ['WALLET_UNAVAILABLE', 'issueRefund']);
    // The payment service retried the wallet (each try but the last logged as a retry).
    const lines = serviceLog(stack, 'payment').filter((l) => l.orderId === id && l.op === 'reverse');
    assert.equal(lines.filter((l) => l.msg === 'wallet call failed; retrying').length, WALLET_MAX_ATTEMPTS - 1, JSON.stringify(lines));
    const ledger = await get(`${stack.url('payment')}/api/payments?orderId=${id}`);
    assert.deepEqual(
      ledger.body.items.map((p: { type: string; status: string }) => [p.type, p.status]),
      [['PAYMENT', 'COMPLETED'], ['REFUND', 'FAILED']],
    );
    assert.equal(await available(stack, product), 6, 'nothing restocked');

    // With the wallet back, the same order returns.
    await stack.startService('wallet');
    assert.equal(await balance(stack, customer), 100, 'nothing was refunded while it was down');
    const retried = await op.post(`${gw}/api/orders/${id}/return`);
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.body.status, 'RETURNED');
    assert.equal(await balance(stack, customer), 150);
    assert.equal(await available(stack, product), 8);
  });

  it('the invariants hold, returns included', async () => {
    const result = await stack.settleAndCheck(60_000);
    assert.deepEqual(result.violations, [], JSON.stringify(result.counts));
    assert.equal(result.counts.returned, 2);
    assert.equal(result.counts.returnSagas, 3);
  });
});
