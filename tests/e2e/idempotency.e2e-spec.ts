/**
 * Idempotency-Key of the saga-starting calls through the gateway, every service its own process on
 * real Kafka and PostgreSQL: concurrent repeats of one request make one order and one debit and get
 * the first one's outcome; the key with another body is a 422; a repeated keyed payment starts no
 * second saga; a call without a key gets one from the gateway (echoed, and stored with the order).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signIn, type Client, type HttpResult } from './http.ts';
import { balance, createProduct, createWallet, queryService, startTestStack, type TestStack } from './support.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('Idempotency-Key (e2e, through the gateway)', () => {
  let stack: TestStack;
  let gw: string;
  let op: Client;
  const tag = Date.now().toString(36).toUpperCase();
  const product = `PIDEM_${tag}`;
  const customer = `CUS_IDEM_${tag}`;
  const order = (quantity = 1) => ({ customerId: customer, orderItems: [{ productId: product, quantity }] });
  const keyed = (key: string, extra: Record<string, string> = {}) => ({ 'idempotency-key': key, ...extra });
  const replayed = (answers: HttpResult[]) => answers.filter((a) => a.headers.get('idempotent-replayed') === 'true').length;

  /** The customer's orders, as the API lists them. */
  const orders = async (): Promise<{ id: string; status: string }[]> => {
    const res = await op.get(`${gw}/api/orders?customerId=${customer}&limit=200`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.items;
  };
  /** The wallet's debits (DEBIT rows of its ledger) and the payment ledger's PAYMENT rows of an order. */
  const debits = async (): Promise<unknown[]> => {
    const res = await op.get(`${gw}/api/wallets/${customer}/transactions?limit=200`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.items.filter((t: { type: string }) => t.type === 'DEBIT');
  };
  const payments = async (orderId: string): Promise<unknown[]> => {
    const res = await op.get(`${gw}/api/payments?orderId=${orderId}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.items.filter((p: { type: string }) => p.type === 'PAYMENT');
  };

  before(async () => {
    stack = await startTestStack('idem');
    gw = stack.url('gateway');
    op = await signIn(gw, 'operator');
    await createProduct(stack, product, 10, 100);
    await createWallet(stack, customer, 100);
  });
  after(async () => {
    await stack?.stop();
  });

  it('makes one order and one debit of two concurrent POST /orders with one key; both get the PLACED order', async () => {
    const key = `place-${tag}`;
    const both = await Promise.all([op.request('POST', `${gw}/orders`, order(), keyed(key)), op.request('POST', `${gw}/orders`, order(), keyed(key))]);
    for (const res of both) {
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.status, 'PLACED');
      assert.equal(res.headers.get('idempotency-key'), key, 'the key is echoed');
    }
    assert.equal(both[0].body.id, both[1].body.id, 'one order');
    assert.equal(replayed(both), 1, 'one answer is the replay of the other');
    assert.deepEqual((await orders()).map((o) => o.id), [both[0].body.id]);
    assert.equal((await debits()).length, 1);
    assert.equal((await payments(both[0].body.id)).length, 1);
    assert.equal(await balance(stack, customer), 90);

    // The same key with another body: 422, nothing written.
    const other = await op.request('POST', `${gw}/orders`, order(2), keyed(key));
    assert.equal(other.status, 422, JSON.stringify(other.body));
    assert.equal(other.body.code, 'IDEMPOTENCY_KEY_REUSED');
    assert.equal(other.body.field, 'Idempotency-Key');
    // The same request later: the first outcome again, at once.
    const later = await op.request('POST', `${gw}/orders`, order(), keyed(`"${key}"`));
    assert.deepEqual([later.status, later.body.id, later.body.status], [201, both[0].body.id, 'PLACED']);
    assert.equal((await orders()).length, 1);
    assert.equal((await debits()).length, 1);
    assert.equal(await balance(stack, customer), 90);
  });

  it('two steps: a repeated keyed creation is the same order, a repeated keyed payment the same saga (not a 409)', async () => {
    const createKey = `create-${tag}`;
    const [created, createdAgain] = await Promise.all([
      op.request('POST', `${gw}/api/orders`, order(3), keyed(createKey)),
      op.request('POST', `${gw}/api/orders`, order(3), keyed(createKey)),
    ]);
    assert.deepEqual([created.status, createdAgain.status], [201, 201], JSON.stringify([created.body, createdAgain.body]));
    assert.equal(created.body.id, createdAgain.body.id);
    const id = created.body.id as string;

    const payKey = `pay-${tag}`;
    const paid = await Promise.all([
      op.request('POST', `${gw}/api/orders/${id}/payment`, {}, keyed(payKey)),
      op.request('POST', `${gw}/api/payment`, { orderId: id }, keyed(payKey)),
    ]);
    for (const res of paid) {
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual([res.body.id, res.body.status], [id, 'PLACED']);
    }
    assert.equal(replayed(paid), 1);
    const again = await op.request('POST', `${gw}/api/orders/${id}/payment`, {}, keyed(payKey));
    assert.deepEqual([again.status, again.body.status, again.headers.get('idempotent-replayed')], [200, 'PLACED', 'true']);
    // Without the key it is a new payment of a paid order: 409 as before.
    const unkeyed = await op.post(`${gw}/api/orders/${id}/payment`);
    assert.deepEqual([unkeyed.status, unkeyed.body.code], [409, 'ORDER_NOT_PAYABLE']);

    assert.equal((await orders()).length, 2);
    assert.equal((await debits()).length, 2, 'one debit per order');
    assert.equal((await payments(id)).length, 1);
    assert.equal(await balance(stack, customer), 60);
  });

  it('sets a key on a saga-starting call that has none: echoed, and stored with the order', async () => {
    const res = await op.request('POST', `${gw}/api/orders`, order());
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const key = res.headers.get('idempotency-key');
    assert.match(key ?? '', UUID);
    const stored = await queryService<{ key: string; customer_id: string; operation: string }>(
      stack,
      'order',
      'SELECT key, customer_id, operation FROM idempotency_keys WHERE order_id = $1',
      [res.body.id],
    );
    assert.deepEqual(stored, [{ key, customer_id: customer, operation: 'create' }]);
    // Not on other calls.
    const cancel = await op.post(`${gw}/api/orders/${res.body.id}/cancel`);
    assert.equal(cancel.status, 200);
    assert.equal(cancel.headers.get('idempotency-key'), null);
    // A malformed key of the client is refused by the order service, through the gateway.
    const bad = await op.request('POST', `${gw}/orders`, order(), keyed('k'.repeat(300)));
    assert.deepEqual([bad.status, bad.body.code, bad.body.field], [400, 'VALIDATION_FAILED', 'Idempotency-Key']);
  });

  it('leaves the services consistent (invariants I1–I6)', async () => {
    const result = await stack.settleAndCheck();
    assert.deepEqual(result.violations, []);
  });
});
