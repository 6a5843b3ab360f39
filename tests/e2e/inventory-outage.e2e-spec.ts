/**
 * The inventory service is down while orders come in: the order service prices them from its own
 * copy of the catalog (fed by inventory.events), so `POST /orders` is accepted, never a 503. The
 * saga waits in Kafka for ReserveStock to be handled; once inventory is back every order ends
 * PLACED with its stock taken and its payment made.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, get, post } from './http.ts';
import { available, balance, createProduct, createWallet, queryService, startTestStack, type TestStack } from './support.ts';

describe('inventory outage (e2e): orders are accepted from the local copy of the catalog', () => {
  let stack: TestStack;
  const tag = Date.now().toString(36).toUpperCase();
  const product = `PIO_${tag}`;
  const customer = `CIO_${tag}`;

  before(async () => {
    // A short wait, so an order held by the outage answers 202 quickly.
    stack = await startTestStack('inventory', { ORDER_WAIT_MS: '2000' });
    await createProduct(stack, product, 12.5, 10);
    await createWallet(stack, customer, 100);
  });
  after(async () => {
    await stack?.stop();
  });

  it('prices orders while inventory is stopped: 201 or 202, never 503; all PLACED once it is back', async () => {
    // The product reaches the order service's copy of the catalog through inventory.events.
    await eventually(async () => {
      const rows = await queryService<{ price_cents: string }>(stack, 'order', 'SELECT price_cents FROM catalog_products WHERE id = $1', [product]);
      return rows.length === 1 && Number(rows[0].price_cents) === 1250;
    });
    await stack.stopService('inventory');
    const answers = await Promise.all(
      Array.from({ length: 3 }, () => post(`${stack.url('gateway')}/orders`, { customerId: customer, orderItems: [{ productId: product, quantity: 2, totalPrice: 25 }] })),
    );
    for (const a of answers) assert.ok(a.status === 201 || a.status === 202, `${a.status} ${JSON.stringify(a.body)}`);
    const ids: string[] = answers.map((a) => a.body.id ?? a.body.order?.id);
    assert.equal(new Set(ids).size, 3, JSON.stringify(answers.map((a) => a.body)));
    // Nobody could reserve the stock yet: the orders wait for inventory, not failed.
    for (const id of ids) assert.equal((await get(`${stack.url('order')}/api/orders/${id}`)).body.status, 'PAYMENT_PENDING');

    await stack.startService('inventory');
    for (const id of ids) {
      await eventually(async () => (await get(`${stack.url('order')}/api/orders/${id}`)).body.status === 'PLACED', 30_000, 200);
    }
    assert.equal(await available(stack, product), 4);
    assert.equal(await balance(stack, customer), 25);
    const result = await stack.settleAndCheck();
    assert.ok(result.ok, JSON.stringify(result.violations));
  });

  it('still refuses a product the catalog never had, naming it', async () => {
    const res = await post(`${stack.url('gateway')}/orders`, { customerId: customer, orderItems: [{ productId: `NOPE_${tag}`, quantity: 1 }] });
    assert.equal(res.status, 404, JSON.stringify(res.body));
    assert.equal(res.body.code, 'UNKNOWN_PRODUCT');
    assert.match(res.body.message, new RegExp(`NOPE_${tag}`));
  });
});
