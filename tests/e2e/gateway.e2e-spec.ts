/**
 * The gateway on top of the whole system (every service its own process, real Kafka + PostgreSQL):
 * the seed curls through it, request ids, unknown routes; then extra gateway processes on the same
 * services: one with AUTH_MODE=required (tokens, ownership, operator role), and two sharing
 * rate limits through Redis.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TOPICS } from '@saga/contracts';
import { KafkaBroker, type IncomingMessage } from '@saga/messaging';
import { pino } from 'pino';
import { REPO_ROOT } from '../../tools/kafka/kafka.ts';
import { startStack, type Stack } from '../../tools/stack/start.ts';
import { bearer, eventually, get, post, request, signIn, type Client, type HttpResult } from './http.ts';
import { assertDesignCatalog, authUsers, createProduct, createWallet, SEED_ORDER, serviceLog, startTestStack, type TestStack } from './support.ts';

const JWT_SECRET = randomBytes(32).toString('base64url');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Status of one call; a stream's body is not read (an order's event stream may stay open).
 */
async function statusOf(method: string, url: string, body?: unknown, token?: string): Promise<number> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  await res.body?.cancel();
  return res.status;
}

describe('gateway (e2e, in front of every service)', () => {
  let stack: TestStack;
  let gw: string;
  /** The operator on the demo-mode gateway: every call but the seed POST /orders needs a token. */
  let op: Client;
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
    op = await signIn(gw, 'operator');
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
      const res = await op.get(`${gw}${placed.body.url}`);
      return res.body.status === 'PLACED' ? res.body : undefined;
    });
    assert.equal(done.totalPrice, 25);
    // The two-step pay answers the same way, and a bounded wait=N that the saga fits in gives its outcome.
    const created = await op.post(`${gw}/api/orders`, order);
    const paid = await op.request('POST', `${gw}/api/orders/${created.body.id}/payment`, undefined, { prefer: 'wait=20' });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.equal(paid.headers.get('preference-applied'), 'wait=10', 'bounded by ORDER_WAIT_MS');
    assert.equal(paid.body.status, 'PLACED');
  });

  it('routes every prefix to its service', async () => {
    assert.equal((await get(`${gw}/api/products`)).body.length >= 10, true);
    assert.equal((await get(`${gw}/api/products/P002`)).body.id, 'P002');
    assert.equal((await op.get(`${gw}/api/wallets/CUS_0003`)).body.customerId, 'CUS_0003');
    const list = await op.get(`${gw}/api/orders?customerId=CUS_0001`);
    assert.equal(list.status, 200);
    assert.equal((await op.get(`${gw}/api/payments?orderId=${list.body.items[0].id}`)).status, 200);
    assert.equal((await op.get(`${gw}/api/sagas`)).status, 200);
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
    const order = await op.request('POST', `${gw}/api/orders`, { customerId: 'CUS_0003', orderItems: [{ productId: 'P002', quantity: 1 }] }, { 'x-request-id': id });
    assert.equal(order.status, 201);
    assert.equal(order.headers.get('x-request-id'), id);
    const line = await eventually(() => serviceLog(stack, 'gateway').find((l) => l.msg === 'request' && l.reqId === id && l.method === 'POST'), 5_000);
    assert.equal(line.status, 201);
    assert.equal(line.upstream, 'order');
    assert.equal(typeof line.ms, 'number');

    // Forwarded: the order service makes it the saga's correlation id (seen on Kafka).
    const payId = `e2e-pay-${randomBytes(6).toString('hex')}`;
    const paid = await op.request('POST', `${gw}/api/orders/${order.body.id}/payment`, undefined, { 'x-request-id': payId });
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

  describe('access: every route of the OpenAPI document × {no token, customer A, customer B, operator} × {demo, required}', () => {
    const A = 'CUS_0002';
    const B = 'CUS_0003';
    /** The required-mode gateway's accounts: configured (AUTH_USERS), with passwords of their own. */
    const PASSWORDS: Record<string, string> = Object.fromEntries(['CUS_0001', A, B, 'operator'].map((u) => [u, `${u}-${randomBytes(12).toString('base64url')}`]));
    const modes = ['demo', 'required'] as const;
    const principals = ['anonymous', 'A', 'B', 'operator'] as const;
    type Mode = (typeof modes)[number];
    type Who = (typeof principals)[number];
    const base: Record<Mode, string> = { demo: '', required: '' };
    const clients = {} as Record<Mode, Record<Exclude<Who, 'anonymous'>, Client>>;
    /** A's order, canceled before payment: every call on it is refused or harmless, so cells do not change each other. */
    let orderId: string;

    before(async () => {
      base.demo = gw;
      base.required = await startGateway(6, { AUTH_MODE: 'required', JWT_SECRET, AUTH_USERS: authUsers(Object.entries(PASSWORDS).map(([username, password]) => ({ username, password }))) });
      for (const mode of modes) {
        const login = (u: string) => signIn(base[mode], u, mode === 'demo' ? undefined : PASSWORDS[u]);
        clients[mode] = { A: await login(A), B: await login(B), operator: await login('operator') };
      }
      const created = await clients.demo.A.post(`${gw}/api/orders`, { customerId: A, orderItems: [{ productId: 'P007', quantity: 1 }] });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      orderId = created.body.id;
      assert.equal((await clients.demo.A.post(`${gw}/api/orders/${orderId}/cancel`)).status, 200);
    });

    interface Cell {
      /** Path (with its query), body; filled in once the fixture exists. */
      call: () => { path: string; body?: unknown };
      /** Expected status: without a token (one per mode when they differ), as A, as B, as the operator. */
      anonymous: number | Record<Mode, number>;
      A: number;
      B: number;
      operator: number;
    }
    const unknownProduct = () => ({ customerId: A, orderItems: [{ productId: 'NO_SUCH_PRODUCT', quantity: 1 }] });
    const deadLetter = '00000000-0000-7000-8000-000000000000';
    /** Every operation of the document, by operationId. A route missing here fails the first test. */
    const TABLE: Record<string, Cell> = {
      getHealth: { call: () => ({ path: '/health' }), anonymous: 200, A: 200, B: 200, operator: 200 },
      login: { call: () => ({ path: '/api/auth/login', body: { username: A, password: 'wrong password' } }), anonymous: 401, A: 401, B: 401, operator: 401 },
      listProducts: { call: () => ({ path: '/api/products' }), anonymous: 200, A: 200, B: 200, operator: 200 },
      getProduct: { call: () => ({ path: '/api/products/P002' }), anonymous: 200, A: 200, B: 200, operator: 200 },
      // Orders for A of a product that does not exist: passed on, refused by the order service, nothing written.
      placeOrder: { call: () => ({ path: '/orders', body: unknownProduct() }), anonymous: { demo: 404, required: 401 }, A: 404, B: 403, operator: 404 },
      createOrder: { call: () => ({ path: '/api/orders', body: unknownProduct() }), anonymous: 401, A: 404, B: 403, operator: 404 },
      listOrders: { call: () => ({ path: `/api/orders?customerId=${A}` }), anonymous: 401, A: 200, B: 403, operator: 200 },
      getOrder: { call: () => ({ path: `/api/orders/${orderId}` }), anonymous: 401, A: 200, B: 404, operator: 200 },
      getOrderHistory: { call: () => ({ path: `/api/orders/${orderId}/history` }), anonymous: 401, A: 200, B: 404, operator: 200 },
      payOrder: { call: () => ({ path: `/api/orders/${orderId}/payment`, body: {} }), anonymous: 401, A: 409, B: 404, operator: 409 },
      payOrderByBody: { call: () => ({ path: '/api/payment', body: { orderId } }), anonymous: 401, A: 409, B: 404, operator: 409 },
      cancelOrder: { call: () => ({ path: `/api/orders/${orderId}/cancel`, body: {} }), anonymous: 401, A: 409, B: 404, operator: 409 },
      returnOrder: { call: () => ({ path: `/api/orders/${orderId}/return`, body: {} }), anonymous: 401, A: 409, B: 404, operator: 409 },
      updateOrderStatus: { call: () => ({ path: `/api/orders/${orderId}/status`, body: { status: 'ON_WAY' } }), anonymous: 401, A: 403, B: 403, operator: 409 },
      streamOrderEvents: { call: () => ({ path: `/api/orders/${orderId}/events` }), anonymous: 401, A: 200, B: 404, operator: 200 },
      getWallet: { call: () => ({ path: `/api/wallets/${A}` }), anonymous: 401, A: 200, B: 403, operator: 200 },
      // Bodies the wallet refuses (400), so no cell moves money.
      deposit: { call: () => ({ path: `/api/wallets/${A}/deposit`, body: { amount: -1 } }), anonymous: 401, A: 400, B: 403, operator: 400 },
      withdraw: { call: () => ({ path: `/api/wallets/${A}/withdraw`, body: { amount: -1 } }), anonymous: 401, A: 400, B: 403, operator: 400 },
      listWalletTransactions: { call: () => ({ path: `/api/wallets/${A}/transactions` }), anonymous: 401, A: 200, B: 403, operator: 200 },
      listPayments: { call: () => ({ path: `/api/payments?orderId=${orderId}` }), anonymous: 401, A: 200, B: 403, operator: 200 },
      listSagas: { call: () => ({ path: '/api/sagas' }), anonymous: 401, A: 403, B: 403, operator: 200 },
      // The order was canceled before its saga started: no saga of that id.
      getSaga: { call: () => ({ path: `/api/sagas/${orderId}` }), anonymous: 401, A: 403, B: 403, operator: 404 },
      retrySaga: { call: () => ({ path: `/api/sagas/${orderId}/retry`, body: {} }), anonymous: 401, A: 403, B: 403, operator: 404 },
      cancelSaga: { call: () => ({ path: `/api/sagas/${orderId}/cancel`, body: {} }), anonymous: 401, A: 403, B: 403, operator: 404 },
      getSagaStats: { call: () => ({ path: '/api/sagas/stats' }), anonymous: 401, A: 403, B: 403, operator: 200 },
      listDeadLetters: { call: () => ({ path: '/api/dead-letters' }), anonymous: 401, A: 403, B: 403, operator: 200 },
      getDeadLetter: { call: () => ({ path: `/api/dead-letters/${deadLetter}` }), anonymous: 401, A: 403, B: 403, operator: 404 },
      replayDeadLetter: { call: () => ({ path: `/api/dead-letters/${deadLetter}/replay`, body: {} }), anonymous: 401, A: 403, B: 403, operator: 404 },
    };

    it('answers every cell as the table says (the routes come from the served OpenAPI document)', async () => {
      const document = (await get(`${gw}/api/openapi.json`)).body as { paths: Record<string, Record<string, { operationId: string }>> };
      const operations = Object.entries(document.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, id: op.operationId })));
      assert.deepEqual(operations.map((o) => o.id).sort(), Object.keys(TABLE).sort(), 'every route of the document has its row, and no row is stale');
      const wrong: string[] = [];
      let cells = 0;
      for (const mode of modes) {
        for (const { method, id } of operations) {
          const row = TABLE[id];
          const { path, body } = row.call();
          for (const who of principals) {
            const expected = who === 'anonymous' ? (typeof row.anonymous === 'number' ? row.anonymous : row.anonymous[mode]) : row[who];
            const status = await statusOf(method, `${base[mode]}${path}`, body, who === 'anonymous' ? undefined : clients[mode][who].token);
            cells++;
            if (status !== expected) wrong.push(`${mode} ${who} ${method} ${path}: ${status}, expected ${expected}`);
          }
        }
      }
      assert.deepEqual(wrong, [], `${wrong.length} of ${cells} cells differ`);
      assert.equal(cells, Object.keys(TABLE).length * principals.length * modes.length);
      // The documentation and the web UI need no token either.
      for (const mode of modes) for (const path of ['/api/openapi.json', '/api/docs']) assert.equal(await statusOf('GET', `${base[mode]}${path}`), 200, `${mode} ${path}`);
    });

    it('answers an anonymous deposit with 401 UNAUTHORIZED in both modes, and the balance does not move', async () => {
      const before = (await clients.demo.operator.get(`${gw}/api/wallets/CUS_0004`)).body.balance;
      for (const mode of modes) {
        const res = await post(`${base[mode]}/api/wallets/CUS_0004/deposit`, { amount: 1_000_000 });
        assert.deepEqual([res.status, res.body.code], [401, 'UNAUTHORIZED'], mode);
      }
      assert.equal((await clients.demo.operator.get(`${gw}/api/wallets/CUS_0004`)).body.balance, before);
    });

    it('in required mode, logs in only the configured accounts: the demo operator / operator-pass is refused', async () => {
      for (const [username, password] of [['operator', 'operator-pass'], [A, `${A.toLowerCase()}-pass`], ['CUS_0005', 'cus_0005-pass']]) {
        const res = await post(`${base.required}/api/auth/login`, { username, password });
        assert.deepEqual([res.status, res.body.code], [401, 'UNAUTHORIZED'], username);
      }
      assert.equal((await post(`${base.required}/api/auth/login`, { username: 'operator', password: PASSWORDS.operator })).status, 200);
      const forged = await request('GET', `${base.required}/api/wallets/${A}`, undefined, { authorization: `Bearer ${clients.required.A.token}x` });
      assert.equal(forged.status, 401);
      // The demo gateway signs with a key of its own: its tokens mean nothing here.
      assert.equal((await bearer(clients.demo.operator.token).get(`${base.required}/api/sagas`)).status, 401);
    });

    it('does not start in required mode without a configured operator (the account made by npm run hash-password)', () => {
      const hashed = spawnSync(process.execPath, [join(REPO_ROOT, 'tools/auth/hash-password.ts'), '--username', A, '--role', 'customer'], { input: PASSWORDS[A], encoding: 'utf8', timeout: 30_000 });
      assert.equal(hashed.status, 0, hashed.stderr);
      const account = JSON.parse(hashed.stdout) as { username: string; role: string; passwordHash: string };
      assert.deepEqual([account.username, account.role], [A, 'customer']);
      assert.match(account.passwordHash, /^scrypt\$/);
      const env = { ...process.env, AUTH_MODE: 'required', JWT_SECRET, PORT: '0', AUTH_USERS: JSON.stringify([account]) };
      const run = spawnSync(process.execPath, [join(REPO_ROOT, 'apps/gateway/dist/main.js')], { env, encoding: 'utf8', timeout: 30_000 });
      assert.notEqual(run.status, 0, 'the gateway exits');
      assert.match(`${run.stdout}${run.stderr}`, /AUTH_USERS needs at least one account with role "operator"/);
    });

    it('runs the two-step flow with a customer token (required mode)', async () => {
      const customer = clients.required.A;
      const created = await customer.post(`${base.required}/api/orders`, { customerId: A, orderItems: [{ productId: 'P003', quantity: 1 }] });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.status, 'INITIATED');
      const paid = await customer.post(`${base.required}/api/orders/${created.body.id}/payment`);
      assert.equal(paid.status, 200, JSON.stringify(paid.body));
      assert.equal(paid.body.status, 'PLACED');
      const payments = await customer.get(`${base.required}/api/payments?orderId=${created.body.id}`);
      assert.equal(payments.status, 200);
      assert.equal(payments.body.items[0].status, 'COMPLETED');
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
    const create = async () => (await op.post(`${gw}/api/orders`, { customerId, orderItems: [{ productId: 'P007', quantity: 1 }] })).body.id as string;
    const created: string[] = [];
    for (let i = 0; i < 120; i++) created.push(await create());
    const seen: string[] = [];
    let url: string | undefined = `/api/orders?customerId=${customerId}&limit=25`;
    let pages = 0;
    while (url) {
      const res = await op.get(`${gw}${url}`);
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
    const newest = await op.get(`${gw}/api/orders?customerId=${customerId}&sort=desc&limit=2`);
    assert.deepEqual(newest.body.items.map((o: { id: string }) => o.id), created.slice(-2).reverse());
    const bad = await op.get(`${gw}/api/orders?customerId=${customerId}&cursor=not-a-cursor`);
    assert.deepEqual([bad.status, bad.body.code, bad.body.field], [400, 'VALIDATION_FAILED', 'cursor']);
    const offset = await op.get(`${gw}/api/orders?customerId=${customerId}&offset=50`);
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
    const orders = await op.get(`${gw}/api/orders?customerId=CUS_GWADM`);
    assert.equal(orders.body.items.length, 2, JSON.stringify(orders.body));
  });

  it('answers 503 UNAVAILABLE while a service is down, and is not ready until it is back', async () => {
    await stack.stopService('orchestrator');
    const down = await op.get(`${gw}/api/sagas`);
    assert.equal(down.status, 503, JSON.stringify(down.body));
    assert.equal(down.body.code, 'UNAVAILABLE');
    await eventually(async () => (await get(`${gw}/health`)).status === 503, 10_000);
    assert.equal((await get(`${gw}/api/products/P002`)).status, 200, 'the other services still answer');
    await stack.startService('orchestrator');
    await eventually(async () => (await get(`${gw}/health`)).status === 200, 20_000);
    assert.equal((await op.get(`${gw}/api/sagas`)).status, 200);
  });
});
