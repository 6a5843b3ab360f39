/**
 * The gateway balances two instances of the order service (each its own process, one database, one
 * consumer group). Under a steady stream of GETs one instance is killed with kill -9: no request
 * fails (the gateway retries idempotent calls on the other instance and its health checks take the
 * dead one out); restarted, the instance rejoins and serves again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, signIn, type Client } from './http.ts';
import { serviceLog, startTestStack, type TestStack } from './support.ts';

describe('gateway load balancing (e2e, two order instances)', () => {
  let stack: TestStack;
  let gw: string;
  let orderId: string;
  let operator: Client;

  /** Instances that served `GET /api/orders/<orderId>` through the gateway since `fromLine` of its log. */
  function servedBy(fromLine = 0): string[] {
    return serviceLog(stack, 'gateway')
      .slice(fromLine)
      .filter((l) => l.msg === 'request' && l.url === `/api/orders/${orderId}` && l.status === 200)
      .map((l) => l.instance as string);
  }

  before(async () => {
    stack = await startTestStack('balance', { HEALTH_INTERVAL_MS: '250', RATE_LIMIT_MAX: '1000000' }, { instances: { order: 2 } });
    gw = stack.url('gateway');
    operator = await signIn(gw, 'operator');
    const created = await operator.post(`${gw}/api/orders`, { customerId: 'CUS_0002', orderItems: [{ productId: 'P008', quantity: 1 }] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    orderId = created.body.id;
  });
  after(async () => {
    await stack?.stop();
  });

  it('deals requests round-robin over both instances', async () => {
    // Until both instances passed the gateway's health check, it may send everything to one.
    const instances = await eventually(async () => {
      for (let i = 0; i < 4; i++) assert.equal((await operator.get(`${gw}/api/orders/${orderId}`)).status, 200);
      const seen = new Set(servedBy());
      return seen.size === 2 ? seen : undefined;
    }, 10_000);
    assert.deepEqual(instances, new Set([stack.url('order'), stack.url('order-2')]));
  });

  it('loses no request when one instance is killed with kill -9, and takes it back once restarted', async () => {
    const statuses: number[] = [];
    const failures: string[] = [];
    let running = true;
    // Four clients in a loop, each request bounded (http.ts: 30 s), the loop by `running`.
    const clients = Array.from({ length: 4 }, async () => {
      while (running) {
        const res = await operator.get(`${gw}/api/orders/${orderId}`).catch((err: Error) => ({ status: 0, body: err.message }));
        statuses.push(res.status);
        if (res.status !== 200) failures.push(`${res.status} ${JSON.stringify(res.body)}`);
      }
    });
    try {
      await eventually(() => statuses.length >= 100, 20_000, 20);
      await stack.stopService('order-2', 'SIGKILL');
      const atKill = statuses.length;
      await eventually(() => serviceLog(stack, 'gateway').some((l) => l.msg === 'upstream instance taken out' && l.instance === stack.url('order-2')), 10_000);
      // A call that is not idempotent still goes through: to the live instance.
      const created = await operator.post(`${gw}/api/orders`, { customerId: 'CUS_0002', orderItems: [{ productId: 'P008', quantity: 1 }] });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      await eventually(() => statuses.length >= atKill + 200, 30_000, 20);

      const logLines = serviceLog(stack, 'gateway').length;
      await stack.startService('order-2');
      await eventually(() => servedBy(logLines).includes(stack.url('order-2')), 20_000);
      await eventually(() => statuses.length >= atKill + 300, 30_000, 20);
    } finally {
      running = false;
      await Promise.all(clients);
    }
    assert.deepEqual(failures, [], `${failures.length} of ${statuses.length} requests failed`);
    assert.ok(statuses.length >= 300, `only ${statuses.length} requests`);
    const log = serviceLog(stack, 'gateway');
    assert.ok(log.some((l) => l.msg === 'upstream instance back in' && l.instance === stack.url('order-2')), 'the gateway logged the instance back in');
  });
});
