/**
 * Order status as Server-Sent Events through the gateway (every service its own process, real Kafka +
 * PostgreSQL): a stream opened on an INITIATED order sees every status of its saga in order and ends
 * at PLACED; Last-Event-ID resumes after an event; an unknown order is a 404 before any streaming.
 * Also the gateway's OpenAPI document and docs page.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eventually, signIn, type Client } from './http.ts';
import { createProduct, createWallet, serviceLog, startTestStack, type TestStack } from './support.ts';

interface StatusEvent {
  id: string;
  event: string;
  data: { orderId: string; status: string; statusInfo: string | null; at: string };
}

/** An open event stream: events as they arrive, and whether the server ended it. */
class EventStreamReader {
  readonly events: StatusEvent[] = [];
  ended = false;
  /** Comment lines (heartbeats) received. */
  comments = 0;
  error: unknown;
  private buffer = '';
  private readonly done: Promise<void>;
  private wake: () => void = () => undefined;

  constructor(body: ReadableStream<Uint8Array>) {
    this.done = (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of body) {
          this.buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = this.buffer.indexOf('\n\n')) >= 0) {
            this.parse(this.buffer.slice(0, end));
            this.buffer = this.buffer.slice(end + 2);
          }
          this.wake();
        }
      } catch (err) {
        // Aborted by the test (or cut): recorded, so waitForEnd can tell it from a clean end.
        this.error = err;
      }
      this.ended = true;
      this.wake();
    })();
  }

  private parse(block: string): void {
    const fields: Record<string, string> = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments++; // heartbeat
        continue;
      }
      const at = line.indexOf(':');
      if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1).trimStart();
    }
    if (fields.data !== undefined) {
      this.events.push({ id: fields.id, event: fields.event, data: JSON.parse(fields.data) as StatusEvent['data'] });
    }
  }

  /** Waits (bounded) until `n` events arrived or the stream ended. */
  async waitFor(n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < n && !this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${this.events.length} of ${n} events within ${timeoutMs} ms: ${JSON.stringify(this.events)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Waits (bounded) for the server to end the stream. */
  async waitForEnd(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`stream not ended within ${timeoutMs} ms: ${JSON.stringify(this.events)}`)), timeoutMs);
    });
    try {
      await Promise.race([this.done, timeout]);
    } finally {
      clearTimeout(timer);
    }
    if (this.error !== undefined) throw this.error;
  }
}

async function openStream(url: string, headers: Record<string, string> = {}, signal = AbortSignal.timeout(60_000)): Promise<EventStreamReader> {
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal });
  if (res.status !== 200) assert.fail(`stream answered ${res.status}: ${await res.text()}`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.ok(res.body);
  return new EventStreamReader(res.body);
}

describe('order events (e2e, Server-Sent Events through the gateway)', () => {
  let stack: TestStack;
  let gw: string;
  const suffix = randomBytes(4).toString('hex').toUpperCase();
  const product = `EV_${suffix}`;
  const customer = `CUS_EV_${suffix}`;

  before(async () => {
    // No periodic re-read within the test: events must come from the LISTEN/NOTIFY of each change.
    // Heartbeats every 300 ms so the test sees them.
    stack = await startTestStack('events', { SSE_REREAD_MS: '600000', SSE_HEARTBEAT_MS: '300' });
    gw = stack.url('gateway');
    operator = await signIn(gw, 'operator');
    await createProduct(stack, product, 10, 100);
    await createWallet(stack, customer, 1_000);
  });
  after(async () => {
    await stack?.stop();
  });

  let operator: Client;
  let orderId: string;
  let events: StatusEvent[];
  /** The order event streams, read as the operator (customers of the test's own have no login). */
  const watch = (id: string, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    openStream(`${gw}/api/orders/${id}/events`, { authorization: `Bearer ${operator.token}`, ...headers }, signal);

  it('streams INITIATED, PAYMENT_PENDING, PAYMENT_DONE, PLACED for an order paid while watching, then ends', async () => {
    const created = await operator.post(`${gw}/api/orders`, { customerId: customer, orderItems: [{ productId: product, quantity: 1 }] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.status, 'INITIATED');
    orderId = created.body.id;

    const stream = await watch(orderId);
    await stream.waitFor(1, 10_000);
    assert.equal(stream.events[0].data.status, 'INITIATED', 'the first event is the current status');
    assert.equal(stream.ended, false);

    const paid = await operator.post(`${gw}/api/orders/${orderId}/payment`);
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.equal(paid.body.status, 'PLACED');

    await stream.waitForEnd(30_000);
    events = stream.events;
    assert.deepEqual(
      events.map((e) => e.data.status),
      ['INITIATED', 'PAYMENT_PENDING', 'PAYMENT_DONE', 'PLACED'],
    );
    for (const e of events) {
      assert.equal(e.event, 'status');
      assert.equal(e.data.orderId, orderId);
    }
    const ids = events.map((e) => BigInt(e.id));
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i] > ids[i - 1], `event ids increase: ${ids.join(',')}`);
  });

  it('resumes after Last-Event-ID, and ends at once for an order already PLACED', async () => {
    assert.ok(events, 'needs the previous test');
    const resumed = await watch(orderId, { 'last-event-id': events[1].id });
    await resumed.waitForEnd(10_000);
    assert.deepEqual(resumed.events.map((e) => e.data.status), ['PAYMENT_DONE', 'PLACED']);

    const fresh = await watch(orderId);
    await fresh.waitForEnd(10_000);
    assert.deepEqual(fresh.events.map((e) => e.data.status), ['PLACED']);

    const afterEnd = await watch(orderId, { 'last-event-id': events[3].id });
    await afterEnd.waitForEnd(10_000);
    assert.deepEqual(afterEnd.events, []);
  });

  it('sends heartbeats while idle, and closes the order service stream when the client goes away', async () => {
    const created = await operator.post(`${gw}/api/orders`, { customerId: customer, orderItems: [{ productId: product, quantity: 1 }] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const abort = new AbortController();
    const stream = await watch(created.body.id, {}, abort.signal);
    await stream.waitFor(1, 10_000);
    assert.equal(stream.events[0].data.status, 'INITIATED');
    await eventually(() => stream.comments >= 2, 10_000, 50);
    assert.equal(stream.events.length, 1, 'no events while the order does not change');
    abort.abort();
    await eventually(
      () => serviceLog(stack, 'order').some((l) => l.msg === 'order event stream closed' && l.orderId === created.body.id && l.reason === 'client gone'),
      10_000,
    );
  });

  it('answers 404 NOT_FOUND JSON for an unknown order, before streaming', async () => {
    const res = await operator.get(`${gw}/api/orders/no-such-order-${suffix}/events`);
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(res.body.code, 'NOT_FOUND');
  });

  // The same stack serves the gateway's API documentation (no stack of its own).
  it('serves the OpenAPI document at /api/openapi.json and the interactive docs at /api/docs', async () => {
    const spec = await fetch(`${gw}/api/openapi.json`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(spec.status, 200);
    assert.match(spec.headers.get('content-type') ?? '', /application\/json/);
    const doc = JSON.parse(await spec.text()) as { openapi: string; paths: Record<string, unknown> };
    assert.match(doc.openapi, /^3\./);
    assert.ok(doc.paths['/api/orders/{id}/events']);

    const docs = await fetch(`${gw}/api/docs`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(docs.status, 200);
    assert.match(docs.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await docs.text(), /swagger-ui/i);
  });
});
