/**
 * The place-order saga scenarios of the core issue, written once and run on every transport: the seed
 * one-call flow, the two-step flow and insufficient funds through the gateway, then cancel, operator
 * transitions and bad input on the order service, and the invariants. Each transport's spec file
 * passes its stack factory (place-order.e2e-spec.ts: Kafka + PostgreSQL, one process per service;
 * embedded.e2e-spec.ts: `npm start`'s single process on PGlite).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get, post, request, signIn } from './http.ts';
import { assertMatchesResponse } from './openapi-schema.ts';
import { available, balance, SEED_ORDER, type SagaStack } from './support.ts';

export function describePlaceOrderSaga(title: string, startStack: () => Promise<SagaStack>): void {
  describe(title, () => {
    let stack: SagaStack;
    let api: string;
    let orders: string;

    before(async () => {
      stack = await startStack();
      api = stack.url('gateway');
      orders = stack.url('order');
    });
    after(async () => {
      await stack?.stop();
    });

    it('places the seed order once, then answers 409 OUT_OF_STOCK "P001 is not available" (through the gateway)', async () => {
      const before = await balance(stack, 'CUS_0001');
      const first = await post(`${api}/orders`, SEED_ORDER);
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assertMatchesResponse('placeOrder', first);
      assert.equal(first.body.status, 'PLACED');
      assert.deepEqual(
        first.body.statusHistory.map((h: { status: string }) => h.status),
        ['INITIATED', 'PAYMENT_PENDING', 'PAYMENT_DONE', 'PLACED'],
      );
      assert.equal(await available(stack, 'P001'), 0);
      assert.equal(await balance(stack, 'CUS_0001'), Number((before - 999.99).toFixed(2)));
      const payments = await get(`${stack.url('payment')}/api/payments?orderId=${first.body.id}`);
      assert.equal(payments.status, 200);
      assertMatchesResponse('listPayments', payments);
      assert.deepEqual(
        payments.body.items.map((p: { type: string; status: string; amount: number }) => [p.type, p.status, p.amount]),
        [['PAYMENT', 'COMPLETED', 999.99]],
      );

      const second = await post(`${api}/orders`, SEED_ORDER);
      assert.equal(second.status, 409, JSON.stringify(second.body));
      assertMatchesResponse('placeOrder', second);
      assert.equal(second.body.code, 'OUT_OF_STOCK');
      assert.equal(second.body.message, 'P001 is not available');
      assert.equal(await available(stack, 'P001'), 0);
      assert.equal(await balance(stack, 'CUS_0001'), Number((before - 999.99).toFixed(2)));
      const failed = await (await signIn(api, 'CUS_0001')).get(`${api}/api/orders/${second.body.order.id}`);
      assertMatchesResponse('getOrder', failed);
      assert.equal(failed.body.status, 'FAILED');
      assert.equal(failed.body.statusInfo, 'P001 is not available');
    });

    it('runs the two-step flow: create → INITIATED, pay → PLACED (through the gateway, signed in)', async () => {
      const customer = await signIn(api, 'CUS_0002');
      const created = await customer.post(`${api}/api/orders`, {
        customerId: 'CUS_0002',
        orderItems: [{ productId: 'P003', quantity: 2 }],
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assertMatchesResponse('createOrder', created);
      assert.equal(created.body.status, 'INITIATED');
      assert.equal(created.body.totalPrice, 179.98);
      const stockBefore = await available(stack, 'P003');
      const walletBefore = await balance(stack, 'CUS_0002');

      const paid = await customer.post(`${api}/api/orders/${created.body.id}/payment`);
      assert.equal(paid.status, 200, JSON.stringify(paid.body));
      assertMatchesResponse('payOrder', paid);
      assert.equal(paid.body.status, 'PLACED');
      assert.equal(await available(stack, 'P003'), stockBefore - 2);
      assert.equal(await balance(stack, 'CUS_0002'), Number((walletBefore - 179.98).toFixed(2)));

      const again = await customer.post(`${api}/api/payment`, { orderId: created.body.id });
      assert.equal(again.status, 409);
      assertMatchesResponse('payOrderByBody', again);
      assert.equal(again.body.code, 'ORDER_NOT_PAYABLE');

      const listed = await customer.get(`${api}/api/orders?customerId=CUS_0002`);
      assertMatchesResponse('listOrders', listed);
      assert.ok(listed.body.items.some((o: { id: string }) => o.id === created.body.id));
      // The rest of what the customer reads, as the OpenAPI document (and the web UI's types) say.
      assertMatchesResponse('getOrderHistory', await customer.get(`${api}/api/orders/${created.body.id}/history`));
      assertMatchesResponse('getWallet', await customer.get(`${api}/api/wallets/CUS_0002`));
      const transactions = await customer.get(`${api}/api/wallets/CUS_0002/transactions?sort=desc&limit=2`);
      assertMatchesResponse('listWalletTransactions', transactions);
      assert.ok(transactions.body.items.some((t: { type: string; reference: string | null }) => t.type === 'DEBIT'), JSON.stringify(transactions.body));
      assertMatchesResponse('listPayments', await customer.get(`${api}/api/payments?orderId=${created.body.id}`));
      assertMatchesResponse('listProducts', await get(`${api}/api/products`));
    });

    it('fails a customer too poor for the order: 402, order FAILED with status info, stock released, no debit (through the gateway)', async () => {
      const customer = await signIn(api, 'CUS_0004');
      const stockBefore = await available(stack, 'P002');
      const walletBefore = await balance(stack, 'CUS_0004');
      const created = await customer.post(`${api}/api/orders`, { customerId: 'CUS_0004', orderItems: [{ productId: 'P002', quantity: 1 }] });
      assert.equal(created.status, 201);
      const paid = await customer.post(`${api}/api/orders/${created.body.id}/payment`);
      assert.equal(paid.status, 402, JSON.stringify(paid.body));
      assertMatchesResponse('payOrder', paid);
      assert.equal(paid.body.code, 'INSUFFICIENT_FUNDS');
      const order = await customer.get(`${api}/api/orders/${created.body.id}`);
      assert.equal(order.body.status, 'FAILED');
      assert.match(order.body.statusInfo, /insufficient/i);
      assert.equal(await available(stack, 'P002'), stockBefore);
      assert.equal(await balance(stack, 'CUS_0004'), walletBefore);
    });

    it('refuses an order for a customer that does not exist, on both flows, and writes nothing', async () => {
      const operator = await signIn(api, 'operator');
      const ghost = { customerId: 'CUS_GHOST', orderItems: [{ productId: 'P002', quantity: 1 }] };
      for (const res of [await post(`${api}/orders`, ghost), await operator.post(`${api}/api/orders`, ghost)]) {
        assert.equal(res.status, 404, JSON.stringify(res.body));
        assert.equal(res.body.code, 'UNKNOWN_CUSTOMER');
        assert.match(res.body.message, /^customerId: /);
      }
      const listed = await operator.get(`${api}/api/orders?customerId=CUS_GHOST`);
      assert.deepEqual([listed.status, listed.body.items], [200, []]);
    });

    it('cancels an unpaid order and refuses to pay it; enforces operator status transitions', async () => {
      const created = await post(`${orders}/api/orders`, { customerId: 'CUS_0003', orderItems: [{ productId: 'P008', quantity: 1 }] });
      const canceled = await post(`${orders}/api/orders/${created.body.id}/cancel`);
      assert.equal(canceled.status, 200);
      assert.equal(canceled.body.status, 'CANCELED');
      assert.equal((await post(`${orders}/api/orders/${created.body.id}/payment`)).status, 409);
      assert.equal((await post(`${orders}/api/orders/${created.body.id}/cancel`)).status, 409);

      const placed = await post(`${orders}/orders`, { customerId: 'CUS_0003', orderItems: [{ productId: 'P008', quantity: 1, totalPrice: 69.99 }] });
      assert.equal(placed.status, 201);
      const skip = await request('PATCH', `${orders}/api/orders/${placed.body.id}/status`, { status: 'DELIVERED' });
      assert.equal(skip.status, 409);
      assert.equal(skip.body.code, 'INVALID_TRANSITION');
      const onWay = await request('PATCH', `${orders}/api/orders/${placed.body.id}/status`, { status: 'ON_WAY' });
      assert.equal(onWay.status, 200);
      assert.equal(onWay.body.status, 'ON_WAY');
    });

    it('answers bad input with a 400 naming the field and writes nothing', async () => {
      const cases: [unknown, string][] = [
        [{ customerId: 'CUS_0001', orderItems: [{ productId: 'P004', quantity: 0 }] }, 'orderItems.0.quantity'],
        [{ customerId: 'CUS_0001', orderItems: [{ productId: 'P004', quantity: -2 }] }, 'orderItems.0.quantity'],
        [{ customerId: 'CUS_0001', orderItems: [{ productId: 'P004', quantity: 'two' }] }, 'orderItems.0.quantity'],
        [{ customerId: 'CUS_0001' }, 'orderItems'],
        [{ orderItems: [{ productId: 'P004', quantity: 1 }] }, 'customerId'],
        [{ customerId: 'CUS_0001', orderItems: [{ productId: 'P004', quantity: 1, totalPrice: 1.0 }] }, 'orderItems.0.totalPrice'],
      ];
      const stockBefore = await available(stack, 'P004');
      for (const [body, field] of cases) {
        const res = await post(`${orders}/orders`, body);
        assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.body)}`);
        assert.equal(res.body.code, 'VALIDATION_FAILED');
        assert.match(res.body.message, new RegExp(field.replace(/\./g, '\\.')), JSON.stringify(res.body));
      }
      const badJson = await request('POST', `${orders}/orders`, '{"customerId": ');
      assert.equal(badJson.status, 400);
      assert.equal(badJson.body.code, 'VALIDATION_FAILED');
      const unknown = await post(`${orders}/orders`, { customerId: 'CUS_0001', orderItems: [{ productId: 'P999', quantity: 1 }] });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.code, 'UNKNOWN_PRODUCT');
      assert.equal((await get(`${orders}/api/orders?customerId=CUS_0001`)).body.items.length, 2, 'only the two seed orders exist');
      assert.equal(await available(stack, 'P004'), stockBefore);
    });

    it("answers the operator's saga and dead-letter calls as the OpenAPI document says (through the gateway)", async () => {
      const operator = await signIn(api, 'operator');
      const completed = await operator.get(`${api}/api/sagas?status=COMPLETED&sort=desc&limit=2`);
      const compensated = await operator.get(`${api}/api/sagas?status=COMPENSATED&limit=2`);
      for (const page of [completed, compensated]) {
        assertMatchesResponse('listSagas', page);
        assert.ok(page.body.items.length > 0, JSON.stringify(page.body));
        for (const saga of page.body.items) assertMatchesResponse('getSaga', await operator.get(`${api}/api/sagas/${saga.id}`));
      }
      const retry = await operator.post(`${api}/api/sagas/${completed.body.items[0].id}/retry`);
      assert.equal(retry.status, 409, JSON.stringify(retry.body));
      assertMatchesResponse('retrySaga', retry);
      assertMatchesResponse('getSagaStats', await operator.get(`${api}/api/sagas/stats?seconds=300`));
      assertMatchesResponse('listDeadLetters', await operator.get(`${api}/api/dead-letters?limit=5`));
    });

    it('leaves the services consistent (invariants I1–I6)', async () => {
      const result = await stack.settleAndCheck();
      assert.deepEqual(result.violations, []);
      assert.ok(result.counts.completed >= 3, JSON.stringify(result.counts));
    });
  });
}
