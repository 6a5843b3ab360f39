import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startGateway, type RunningGateway } from './gateway.app';
import { GatewayEnvSchema } from './gateway.config';

interface Seen {
  instance: string;
  method: string;
  url: string;
  key: string | undefined;
}

/**
 * The gateway in front of two order instances that cut the connection of the first attempt of every
 * POST after reading it (as an instance dying mid-request does): a saga-starting POST, which carries
 * an Idempotency-Key, is retried on the other instance with the same key; another POST is not.
 */
describe('gateway: retry of a keyed POST whose connection was cut', () => {
  const servers: Server[] = [];
  const seen: Seen[] = [];
  let gateway: RunningGateway;
  let base: string;

  async function listen(handler: (req: IncomingMessage, body: string, res: import('node:http').ServerResponse) => void): Promise<string> {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => handler(req, body, res));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const health = (req: IncomingMessage, res: import('node:http').ServerResponse): boolean => {
    if (req.url !== '/health') return false;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return true;
  };

  /** An order instance: answers a request another instance already saw, cuts a first attempt. */
  const orderInstance = (name: string) =>
    listen((req, _body, res) => {
      if (health(req, res)) return;
      const key = req.headers['idempotency-key'] as string | undefined;
      const attempt = { instance: name, method: req.method!, url: req.url!, key };
      const retried = seen.some((s) => s.url === attempt.url && s.method === attempt.method && s.key === key && s.instance !== name);
      seen.push(attempt);
      if (!retried) {
        req.socket.destroy();
        return;
      }
      res.writeHead(201, { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) }).end(JSON.stringify({ id: 'o1', answeredBy: name }));
    });

  before(async () => {
    const [a, b, other] = await Promise.all([orderInstance('a'), orderInstance('b'), listen((req, _b, res) => void (health(req, res) || res.writeHead(404).end()))]);
    const env = GatewayEnvSchema.parse({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      ORDER_URL: `${a},${b}`,
      INVENTORY_URL: other,
      PAYMENT_URL: other,
      WALLET_URL: other,
      ORCHESTRATOR_URL: other,
      HEALTH_INTERVAL_MS: '100',
    });
    gateway = await startGateway(env, pino({ level: 'silent' }));
    base = `http://127.0.0.1:${(gateway.app.getHttpServer().address() as AddressInfo).port}`;
  });
  after(async () => {
    await gateway?.stop();
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  const post = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ customerId: 'CUS_0001', orderItems: [{ productId: 'P002', quantity: 1 }] }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, key: res.headers.get('idempotency-key') };
  };

  it('retries a saga-starting POST without a client key on the other instance, under the key it set', async () => {
    seen.length = 0;
    const res = await post('/orders');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(seen.length, 2, JSON.stringify(seen));
    assert.notEqual(seen[0].instance, seen[1].instance);
    assert.match(seen[0].key ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(seen[1].key, seen[0].key, 'the retry carries the same key');
    assert.equal(res.key, seen[0].key, 'the key is echoed');
  });

  it("forwards and echoes the client's key", async () => {
    seen.length = 0;
    const res = await post('/orders', { 'idempotency-key': 'client-key-1' });
    assert.equal(res.status, 201);
    assert.deepEqual(seen.map((s) => s.key), ['client-key-1', 'client-key-1']);
    assert.equal(res.key, 'client-key-1');
  });

  it('does not retry a POST that carries no key once it reached an instance', async () => {
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'operator', password: 'operator-pass' }),
    });
    const { token } = (await login.json()) as { token: string };
    seen.length = 0;
    const res = await post('/api/orders/o1/cancel', { authorization: `Bearer ${token}` });
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(seen.length, 1, JSON.stringify(seen));
    assert.equal(seen[0].key, undefined);
    assert.equal(res.key, null);
  });
});
