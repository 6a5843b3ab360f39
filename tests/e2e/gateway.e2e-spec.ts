/**
 * The gateway on top of the whole system (every service its own process, real Kafka + PostgreSQL):
 * the seed curls through it, request ids, unknown routes; then extra gateway processes on the same
 * services: one with AUTH_MODE=required (tokens, ownership, operator role), and two sharing
 * rate limits through Redis.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { TOPICS } from '@saga/contracts';
import { KafkaBroker, type IncomingMessage } from '@saga/messaging';
import { pino } from 'pino';
import { startStack, type Stack } from '../../tools/stack/start.ts';
import { eventually, get, post, request, type HttpResult } from './http.ts';
import { assertDesignCatalog, createProduct, createWallet, SEED_ORDER, serviceLog, startTestStack, type TestStack } from './support.ts';

const JWT_SECRET = randomBytes(32).toString('base64url');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('gateway (e2e, in front of every service)', () => {
  let stack: TestStack;
  let gw: string;
  const extras: Stack[] = [];

  /** One more gateway process on this stack's services, at `stack port + slot` (slots 6..9 are free). */
  async function startGateway(slot: number, env: Record<string, string>): Promise<string> {
    const ports: Record<string, number> = {};
    for (const s of stack.services) ports[s.name] = s.port;
    ports.gateway = ports.gateway + slot;
    const extra = await startStack({
      services: ['gateway'],
      ports,
      brokers: stack.brokers,
      env: { LOG_LEVEL: 'info', ...env },
      // Its own file: the stack's log is an open write stream that would overwrite appended lines.
      output: (service, line) => appendFileSync(stack.logFile.replace(/\.log$/, '-gateways.log'), `${service}${slot} ${line}\n`),
      readyTimeoutMs: 30_000,
    });
    extras.push(extra);
    return extra.url('gateway');
  }

  before(async () => {
    stack = await startTestStack('gateway');
    gw = stack.url('gateway');
  });
  after(async () => {
    await Promise.all(extras.map((e) => e.stop()));
    await stack?.stop();
  });

  it('serves the DESIGN §3 catalog on a fresh start', async () => {
    await assertDesignCatalog(gw);
  });

  it('answers the seed curls on the gateway: 201 PLACED, then 409 "P001 is not available"', async () => {
    const first = await post(`${gw}/orders`, SEED_ORDER);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.status, 'PLACED');
    assert.equal(first.body.customerId, 'CUS_0001');
    const second = await post(`${gw}/orders`, SEED_ORDER);
    assert.equal(second.status, 409, JSON.stringify(second.body));
    assert.equal(second.body.code, 'OUT_OF_STOCK');
    assert.equal(second.body.message, 'P001 is not available');
  });

  it('answers 202 with the order URL when the client will not wait (Prefer: respond-async), and the saga still ends PLACED', async () => {
    await createProduct(stack, 'GW202', 12.5, 5);
    await createWallet(stack, 'CUS_GW202', 100);
    const order = { customerId: 'CUS_GW202', orderItems: [{ productId: 'GW202', quantity: 2 }] };
    const placed = await request('POST', `${gw}/orders`, order, { prefer: 'respond-async' });
    assert.equal(placed.status, 202, JSON.stringify(placed.body));
    assert.equal(placed.headers.get('preference-applied'), 'respond-async');
    assert.equal(placed.headers.get('location'), `/api/orders/${placed.body.id}`);
    assert.equal(placed.body.url, `/api/orders/${placed.body.id}`);
    const done = await eventually(async () => {
      const res = await get(`${gw}${placed.body.url}`);
      return res.body.status === 'PLACED' ? res.body : undefined;
    });
    assert.equal(done.totalPrice, 25);
    // The two-step pay answers the same way, and a bounded wait=N that the saga fits in gives its outcome.
    const created = await post(`${gw}/api/orders`, order);
    const paid = await request('POST', `${gw}/api/orders/${created.body.id}/payment`, undefined, { prefer: 'wait=20' });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.equal(paid.headers.get('preference-applied'), 'wait=10', 'bounded by ORDER_WAIT_MS');
    assert.equal(paid.body.status, 'PLACED');
  });

  it('routes every prefix to its service', async () => {
    assert.equal((await get(`${gw}/api/products`)).body.length >= 10, true);
    assert.equal((await get(`${gw}/api/products/P002`)).body.id, 'P002');
    assert.equal((await get(`${gw}/api/wallets/CUS_0003`)).body.customerId, 'CUS_0003');
    const list = await get(`${gw}/api/orders?customerId=CUS_0001`);
    assert.equal(list.status, 200);
    assert.equal((await get(`${gw}/api/payments?orderId=${list.body.items[0].id}`)).status, 200);
    assert.equal((await get(`${gw}/api/sagas`)).status, 200);
    assert.equal((await get(`${gw}/api/products/P999`)).body.code, 'NOT_FOUND');
  });

  it('echoes a given request id, creates one otherwise, forwards it and logs each request', async () => {
    const id = `e2e-${randomBytes(6).toString('hex')}`;
    const given = await request('GET', `${gw}/api/products/P002`, undefined, { 'x-request-id': id });
    assert.equal(given.headers.get('x-request-id'), id);
    const created = await get(`${gw}/api/products/P002`);
    assert.match(created.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const bad = await request('GET', `${gw}/api/products/P002`, undefined, { 'x-request-id': 'bad id\twith spaces' });
    assert.notEqual(bad.headers.get('x-request-id'), 'bad id\twith spaces');
    const order = await request('POST', `${gw}/api/orders`, { customerId: 'CUS_0003', orderItems: [{ productId: 'P002', quantity: 1 }] }, { 'x-request-id': id });
    assert.equal(order.status, 201);
    assert.equal(order.headers.get('x-request-id'), id);
    const line = await eventually(() => serviceLog(stack, 'gateway').find((l) => l.msg === 'request' && l.reqId === id && l.method === 'POST'), 5_000);
    assert.equal(line.status, 201);
    assert.equal(line.upstream, 'order');
    assert.equal(typeof line.ms, 'number');

    // Forwarded: the order service makes it the saga's correlation id (seen on Kafka).
    const payId = `e2e-pay-${randomBytes(6).toString('hex')}`;
    const paid = await request('POST', `${gw}/api/orders/${order.body.id}/payment`, undefined, { 'x-request-id': payId });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.equal(paid.headers.get('x-request-id'), payId);
    const broker = new KafkaBroker({ brokers: stack.brokers.split(','), clientId: 'e2e-gw-tap', logger: pino({ level: 'warn' }) });
    const got: IncomingMessage[] = [];
    const sub = await broker.subscribe({
      groupId: `e2e-gw-tap-${randomBytes(6).toString('hex')}`,
      topics: [TOPICS.orderEvents],
      handler: async (batch) => void got.push(...batch.filter((m) => m.key === order.body.id)),
    });
    try {
      const requested = await eventually(() => got.find((m) => m.envelope.type === 'OrderPaymentRequested'), 20_000);
      assert.equal(requested.envelope.correlationId, payId);
    } finally {
      await sub.close();
      await broker.close();
    }
  });

  it('answers 404 NOT_FOUND JSON for an unknown route', async () => {
    for (const path of ['/nope', '/api/nope', '/api/wallets']) {
      const res = await get(`${gw}${path}`);
      assert.equal(res.status, 404, path);
      assert.equal(res.body.code, 'NOT_FOUND', path);
      assert.ok(res.headers.get('x-request-id'));
    }
  });

  it('answers bad bodies with a 4xx and a stable code, never a 5xx', async () => {
    const broken = await post(`${gw}/orders`, '{"customerId":');
    assert.equal(broken.status, 400);
    assert.equal(broken.body.code, 'VALIDATION_FAILED');
    const missing = await post(`${gw}/orders`, { customerId: 'CUS_0001' });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.code, 'VALIDATION_FAILED');
    const huge = await post(`${gw}/orders`, { ...SEED_ORDER, pad: 'x'.repeat(1024 * 1024) });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.code, 'PAYLOAD_TOO_LARGE');
  });

  describe('AUTH_MODE=required', () => {
    let secure: string;
    const tokens: Record<string, string> = {};
    const as = (user: string, method: string, url: string, body?: unknown): Promise<HttpResult> =>
      request(method, `${secure}${url}`, body, { authorization: `Bearer ${tokens[user]}` });

    before(async () => {
      secure = await startGateway(6, { AUTH_MODE: 'required', JWT_SECRET });
      for (const user of ['CUS_0001', 'CUS_0002', 'operator']) {
        const res = await post(`${secure}/api/auth/login`, { username: user, password: `${user.toLowerCase()}-pass` });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        tokens[user] = res.body.token;
      }
    });

    it('logs in seeded users only with their password', async () => {
      const wrong = await post(`${secure}/api/auth/login`, { username: 'CUS_0001', password: 'cus_0002-pass' });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.code, 'UNAUTHORIZED');
      assert.equal((await post(`${secure}/api/auth/login`, { username: 'CUS_0001' })).status, 400);
    });

    it('answers 401 without a token (or with a bad one) except for the catalog', async () => {
      for (const [method, path] of [['POST', '/orders'], ['GET', '/api/orders?customerId=CUS_0001'], ['GET', '/api/wallets/CUS_0001'], ['GET', '/api/sagas']]) {
        const res = await request(method, `${secure}${path}`, method === 'POST' ? SEED_ORDER : undefined);
        assert.equal(res.status, 401, `${method} ${path}`);
        assert.equal(res.body.code, 'UNAUTHORIZED');
      }
      const forged = await request('GET', `${secure}/api/wallets/CUS_0001`, undefined, { authorization: `Bearer ${tokens.CUS_0001}x` });
      assert.equal(forged.status, 401);
      assert.equal((await get(`${secure}/api/products/P002`)).status, 200);
      assert.equal((await get(`${secure}/health`)).status, 200);
    });

    it('runs the two-step flow with a customer token', async () => {
      const created = await as('CUS_0002', 'POST', '/api/orders', { customerId: 'CUS_0002', orderItems: [{ productId: 'P003', quantity: 1 }] });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.status, 'INITIATED');
      const paid = await as('CUS_0002', 'POST', `/api/orders/${created.body.id}/payment`);
      assert.equal(paid.status, 200, JSON.stringify(paid.body));
      assert.equal(paid.body.status, 'PLACED');
      assert.equal((await as('CUS_0002', 'GET', `/api/orders/${created.body.id}`)).body.status, 'PLACED');
      const payments = await as('CUS_0002', 'GET', `/api/payments?orderId=${created.body.id}`);
      assert.equal(payments.status, 200);
      assert.equal(payments.body.items[0].status, 'COMPLETED');
    });

    it("keeps customer A away from customer B's orders, wallet and payments", async () => {
      const mine = await as('CUS_0002', 'POST', '/api/orders', { customerId: 'CUS_0002', orderItems: [{ productId: 'P004', quantity: 1 }] });
      assert.equal(mine.status, 201, JSON.stringify(mine.body));
      const id = mine.body.id as string;
      for (const [method, path, body] of [
        ['GET', `/api/orders/${id}`],
        ['POST', `/api/orders/${id}/payment`],
        ['POST', '/api/payment', { orderId: id }],
        ['POST', `/api/orders/${id}/cancel`],
      ] as const) {
        const res = await as('CUS_0001', method, path, body);
        assert.equal(res.status, 404, `${method} ${path}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.code, 'NOT_FOUND');
      }
      for (const path of ['/api/wallets/CUS_0002', '/api/wallets/CUS_0002/transactions', `/api/payments?orderId=${id}`, '/api/orders?customerId=CUS_0002']) {
        const res = await as('CUS_0001', 'GET', path);
        assert.equal(res.status, 403, path);
        assert.equal(res.body.code, 'FORBIDDEN');
      }
      assert.equal((await as('CUS_0001', 'POST', '/api/wallets/CUS_0002/withdraw', { amount: 1 })).status, 403);
      assert.equal((await as('CUS_0001', 'POST', '/orders', { ...SEED_ORDER, customerId: 'CUS_0002' })).status, 403);
      // A did not pay B's order: it is still waiting for B.
      assert.equal((await as('CUS_0002', 'GET', `/api/orders/${id}`)).body.status, 'INITIATED');
      assert.equal((await as('CUS_0001', 'GET', '/api/wallets/CUS_0001')).status, 200);
      assert.equal((await as('operator', 'GET', `/api/orders/${id}`)).status, 200);
    });

    it('answers 403 to a customer on operator endpoints', async () => {
      const created = await as('CUS_0001', 'POST', '/api/orders', { customerId: 'CUS_0001', orderItems: [{ productId: 'P005', quantity: 1 }] });
      for (const [method, path, body] of [
        ['PATCH', `/api/orders/${created.body.id}/status`, { status: 'ON_WAY' }],
        ['GET', '/api/sagas'],
        ['GET', `/api/sagas/${created.body.id}`],
        ['POST', `/api/sagas/${created.body.id}/retry`],
      ] as const) {
        const res = await as('CUS_0001', method, path, body);
        assert.equal(res.status, 403, `${method} ${path}`);
        assert.equal(res.body.code, 'FORBIDDEN');
      }
      assert.equal((await as('operator', 'GET', '/api/sagas')).status, 200);
    });
  });

  it('answers 429 RATE_LIMITED with Retry-After past the limit, shared by two gateways on Redis', async () => {
    const env = { RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '60000', REDIS_URL, RATE_LIMIT_REDIS_PREFIX: `${stack.prefix}:rl:` };
    const [one, two] = await Promise.all([startGateway(7, env), startGateway(8, env)]);
    // Ready means Redis answers too, so the counts below are shared from the first request.
    assert.equal((await get(`${one}/health`)).body.checks.redis, 'ok');
    for (let i = 0; i < 5; i++) {
      const res = await get(`${i % 2 === 0 ? one : two}/api/products/P002`);
      assert.equal(res.status, 200, `request ${i + 1}`);
    }
    for (const base of [one, two]) {
      const limited = await get(`${base}/api/products/P002`);
      assert.equal(limited.status, 429);
      assert.equal(limited.body.code, 'RATE_LIMITED');
      assert.ok(Number(limited.headers.get('retry-after')) > 0, 'Retry-After in seconds');
    }
    // Per route: another route of the same client still has its own budget.
    assert.equal((await get(`${one}/api/products`)).status, 200);
  });

  it('pages a customer\'s 120 orders by keyset: following rel="next" returns each once, in order, with those created while paging', async () => {
    const customerId = `CUS_PAGE_${Date.now().toString(36).toUpperCase()}`;
    await createWallet(stack, customerId, 10);
    const create = async () => (await post(`${gw}/api/orders`, { customerId, orderItems: [{ productId: 'P007', quantity: 1 }] })).body.id as string;
    const created: string[] = [];
    for (let i = 0; i < 120; i++) created.push(await create());
    const seen: string[] = [];
    let url: string | undefined = `/api/orders?customerId=${customerId}&limit=25`;
    let pages = 0;
    while (url) {
      const res = await get(`${gw}${url}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      pages++;
      seen.push(...res.body.items.map((o: { id: string }) => o.id));
      const link = res.headers.get('link');
      const next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
      assert.equal(next !== undefined, res.body.nextCursor !== null, `Link and nextCursor agree: ${link} / ${res.body.nextCursor}`);
      if (next) assert.ok(next.includes(`cursor=${res.body.nextCursor}`), next);
      // Orders created while paging come on later pages.
      if (pages === 1) for (let i = 0; i < 3; i++) created.push(await create());
      url = next;
    }
    assert.equal(seen.length, 123);
    assert.deepEqual(seen, created, 'each order once, oldest first');
    const newest = await get(`${gw}/api/orders?customerId=${customerId}&sort=desc&limit=2`);
    assert.deepEqual(newest.body.items.map((o: { id: string }) => o.id), created.slice(-2).reverse());
    const bad = await get(`${gw}/api/orders?customerId=${customerId}&cursor=not-a-cursor`);
    assert.deepEqual([bad.status, bad.body.code, bad.body.field], [400, 'VALIDATION_FAILED', 'cursor']);
    const offset = await get(`${gw}/api/orders?customerId=${customerId}&offset=50`);
    assert.deepEqual([offset.status, offset.body.field], [400, 'offset'], 'offset paging is gone: said, not ignored');
  });

  it('admits saga calls up to its limit, queues the next, and turns away past the queue with 503 OVERLOADED', async () => {
    const gate = await startGateway(9, { SAGA_ADMISSION_MAX: '1', SAGA_ADMISSION_QUEUE: '1' });
    await createProduct(stack, 'GWADM', 5, 10);
    await createWallet(stack, 'CUS_GWADM', 100);
    const order = { customerId: 'CUS_GWADM', orderItems: [{ productId: 'GWADM', quantity: 1 }] };
    // Three at once: one runs, one waits for its slot, the third finds the queue full.
    const answers = await Promise.all([0, 1, 2].map(() => post(`${gate}/orders`, order)));
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [201, 201, 503], JSON.stringify(answers.map((a) => a.body)));
    const refused = answers.find((a) => a.status === 503)!;
    assert.equal(refused.body.code, 'OVERLOADED');
    assert.equal(refused.headers.get('retry-after'), '1');
    // Turned away before the order service saw it: only the two admitted orders exist.
    const orders = await get(`${gw}/api/orders?customerId=CUS_GWADM`);
    assert.equal(orders.body.items.length, 2, JSON.stringify(orders.body));
  });

  it('answers 503 UNAVAILABLE while a service is down, and is not ready until it is back', async () => {
    await stack.stopService('orchestrator');
    const down = await get(`${gw}/api/sagas`);
    assert.equal(down.status, 503, JSON.stringify(down.body));
    assert.equal(down.body.code, 'UNAVAILABLE');
    await eventually(async () => (await get(`${gw}/health`)).status === 503, 10_000);
    assert.equal((await get(`${gw}/api/products/P002`)).status, 200, 'the other services still answer');
    await stack.startService('orchestrator');
    await eventually(async () => (await get(`${gw}/health`)).status === 200, 20_000);
    assert.equal((await get(`${gw}/api/sagas`)).status, 200);
  });
});
