/**
 * `npm start`, the zero-infrastructure mode: every service and the gateway in one process on PGlite
 * with the durable in-process log, started as its own child process. The core saga scenarios
 * (shared with the Kafka stack), then a kill -9 in the middle of a burst: after a restart on the same
 * data every saga ends, nothing is lost or duplicated, and the orders are still there.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmbeddedTestStack, type EmbeddedTestStack } from './embedded-support.ts';
import { eventually, get, post, signIn, type HttpResult } from './http.ts';
import { describePlaceOrderSaga } from './place-order.scenarios.ts';
import { assertDesignCatalog, available, balance } from './support.ts';

describePlaceOrderSaga('place-order saga (e2e, embedded: one process, PGlite, in-process log)', () => startEmbeddedTestStack('saga'));

describe('npm start (embedded): a crash loses nothing', () => {
  let stack: EmbeddedTestStack;

  before(async () => {
    stack = await startEmbeddedTestStack('restart');
  });
  after(async () => {
    await stack?.stop();
  });

  it('serves the DESIGN §3 catalog on a fresh start', async () => {
    await assertDesignCatalog(stack.url('gateway'));
  });

  it('kill -9 in the middle of a burst, restart: every saga ends once, the orders are kept, invariants hold', async (t) => {
    t.diagnostic(`running: ${stack.rssMb()} MB resident`);
    const api = stack.url('gateway');
    const stockBefore = await available(stack, 'P008');
    const walletBefore = await balance(stack, 'CUS_0005');
    const order = { customerId: 'CUS_0005', orderItems: [{ productId: 'P008', quantity: 1, totalPrice: 69.99 }] };

    // 60 one-call orders, 12 at a time; the process dies once a few have been answered.
    const answered: HttpResult[] = [];
    let sent = 0;
    const worker = async (): Promise<void> => {
      while (sent < 60) {
        sent++;
        try {
          answered.push(await post(`${api}/orders`, order));
        } catch {
          return; // the process is gone
        }
      }
    };
    const burst = Promise.all(Array.from({ length: 12 }, worker));
    await eventually(() => answered.length >= 6, 30_000, 5);
    await stack.kill('SIGKILL');
    await burst;
    const placedBefore = answered.filter((r) => r.status === 201).map((r) => r.body.id as string);
    assert.ok(placedBefore.length >= 6 && sent < 60, `killed mid-burst (${placedBefore.length} answered, ${sent} sent)`);

    const restartMs = await stack.start();
    t.diagnostic(`restart: ready in ${restartMs} ms, ${stack.rssMb()} MB resident`);

    // Every order that was written ends (none stays PAYMENT_PENDING), all PLACED: stock and money were plenty.
    const customer = await signIn(api, 'CUS_0005');
    const orders = await eventually(async () => {
      const res = await customer.get(`${api}/api/orders?customerId=CUS_0005&limit=200`);
      const list = res.body.items as { id: string; status: string }[];
      return res.status === 200 && list.length > 0 && list.every((o) => o.status === 'PLACED') ? list : undefined;
    }, 60_000, 250);
    const ids = new Set(orders.map((o) => o.id));
    for (const id of placedBefore) assert.ok(ids.has(id), `order ${id} answered before the crash is kept`);
    assert.ok(orders.length >= placedBefore.length && orders.length <= sent, `${orders.length} orders for ${sent} requests`);
    // One effect per saga: stock and wallet moved exactly once per order.
    assert.equal(await available(stack, 'P008'), stockBefore - orders.length);
    assert.equal(await balance(stack, 'CUS_0005'), Number((walletBefore - 69.99 * orders.length).toFixed(2)));

    const result = await stack.settleAndCheck();
    assert.deepEqual(result.violations, []);
    assert.equal(result.counts.completed, orders.length, JSON.stringify(result.counts));
  });
});
