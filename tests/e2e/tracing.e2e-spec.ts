/**
 * OpenTelemetry across HTTP and Kafka: with OTEL_EXPORTER_OTLP_ENDPOINT pointing at an OTLP/HTTP
 * receiver of this test, one saga placed through the gateway is one trace holding spans from the
 * gateway and every service, each hop a child of the one before (joined across Kafka through the
 * envelope's traceparent); and a log line of each service for that saga carries the same
 * correlation id and trace id.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { eventually, post } from './http.ts';
import { createProduct, createWallet, serviceLog, startTestStack, type TestStack } from './support.ts';

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  attributes: Record<string, unknown>;
}

/** An OTLP/HTTP (JSON) trace receiver: `POST /v1/traces`, spans kept in memory. */
async function startReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; server: Server }> {
  const spans: ReceivedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        for (const rs of body.resourceSpans ?? []) {
          const service = rs.resource?.attributes?.find((a: any) => a.key === 'service.name')?.value?.stringValue;
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              const attributes: Record<string, unknown> = {};
              for (const a of s.attributes ?? []) attributes[a.key] = Object.values(a.value ?? {})[0];
              spans.push({ service, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', name: s.name, attributes });
            }
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, spans, server };
}

const SERVICES = ['gateway', 'order', 'inventory', 'payment', 'wallet', 'orchestrator'];

describe('tracing and correlated logs (e2e, OTLP export)', () => {
  let stack: TestStack;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    receiver = await startReceiver();
    // Debug: each handled message logs a 'message handled' line (info logs requests only).
    stack = await startTestStack('tracing', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, LOG_LEVEL: 'debug' });
  });
  after(async () => {
    await stack?.stop();
    receiver?.server.close();
  });

  it('makes one saga one trace with spans of the gateway and every service, joined across Kafka', async () => {
    await createProduct(stack, 'TRC1', 20, 10);
    await createWallet(stack, 'CUS_TRC', 100);
    const res = await post(`${stack.url('gateway')}/orders`, { customerId: 'CUS_TRC', orderItems: [{ productId: 'TRC1', quantity: 1 }] });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const orderId: string = res.body.id;

    // The saga's consumer spans name it; their trace is the saga's.
    const traceId = await eventually(() => receiver.spans.find((s) => s.attributes['saga.id'] === orderId)?.traceId, 20_000, 200);
    const trace = await eventually(() => {
      const spans = receiver.spans.filter((s) => s.traceId === traceId);
      const services = new Set(spans.map((s) => s.service));
      return SERVICES.every((s) => services.has(s)) && spans.filter((s) => s.name.startsWith('process ')).length >= 10 ? spans : undefined;
    }, 20_000, 200);

    // One root (the gateway's server span); every other span's parent is in the trace.
    const ids = new Set(trace.map((s) => s.spanId));
    const roots = trace.filter((s) => !ids.has(s.parentSpanId));
    assert.deepEqual(roots.map((s) => `${s.service} ${s.name}`), ['gateway POST /orders']);
    // Kafka hops: the orchestrator's ReserveStock command is handled by inventory under the span of
    // the orchestrator's handling of the reply that caused it.
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const reserve = trace.find((s) => s.service === 'inventory' && s.name === 'process ReserveStock');
    assert.ok(reserve, trace.map((s) => `${s.service} ${s.name}`).join(', '));
    assert.equal(byId.get(reserve.parentSpanId)?.service, 'orchestrator');
    // The wallet's debit is a child of the payment service's handling of ProcessPayment; the order
    // service's check that the customer exists, a child of its POST /orders.
    const walletSpans = trace.filter((s) => s.service === 'wallet');
    const debit = walletSpans.find((s) => s.name.includes('/internal/debits'));
    assert.ok(debit, walletSpans.map((s) => s.name).join(', '));
    assert.equal(byId.get(debit.parentSpanId)?.name, 'process ProcessPayment');
    const customerCheck = walletSpans.find((s) => s.name.startsWith('GET /api/wallets'));
    assert.ok(customerCheck, walletSpans.map((s) => s.name).join(', '));
    assert.equal(`${byId.get(customerCheck.parentSpanId)?.service} ${byId.get(customerCheck.parentSpanId)?.name}`, 'order POST /orders');

    // Logs: the gateway's request id is the saga's correlation id; every service wrote a line with
    // it and the trace id (a request line, or a 'message handled' line of the saga's messages).
    const correlationId = res.headers.get('x-request-id');
    assert.ok(correlationId);
    const lineOf = (service: string) => serviceLog(stack, service).find((l) => l.traceId === traceId && l.correlationId === correlationId);
    await eventually(() => SERVICES.every((s) => lineOf(s) !== undefined), 10_000, 200).catch(() => undefined);
    for (const service of SERVICES) {
      assert.ok(lineOf(service), `${service} wrote no line with correlation id ${correlationId} and trace id ${traceId}`);
    }
    assert.equal(lineOf('inventory')?.msg, 'message handled');
    assert.equal(lineOf('inventory')?.sagaId, orderId);
  });
});
