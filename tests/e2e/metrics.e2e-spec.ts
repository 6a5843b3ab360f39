/**
 * A real Prometheus (Debian's package, installed when missing) scrapes every service of the running
 * Kafka stack; after 100 sagas (90 placed, 10 refused for insufficient funds) its HTTP API reports
 * the saga outcome counters, the step latency histograms and the HTTP metrics with the right counts.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, get, post } from './http.ts';
import { createProduct, createWallet, startTestStack, type TestStack } from './support.ts';
import { ensureDebianPackage } from '../../tools/system/debian-packages.ts';

const PLACED = 90;
const REFUSED = 10;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('metrics (e2e, real Prometheus scraping every service)', () => {
  let stack: TestStack;
  let prometheus: ChildProcess | undefined;
  let promUrl: string;
  let dir: string;

  /** Sum of an instant PromQL query's samples, by the value of `label` (or '' for no grouping). */
  async function query(promql: string, label = ''): Promise<Record<string, number>> {
    const res = await get(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
    assert.equal(res.body?.status, 'success', JSON.stringify(res.body));
    const out: Record<string, number> = {};
    for (const r of res.body.data.result as { metric: Record<string, string>; value: [number, string] }[]) {
      const key = label === '' ? '' : (r.metric[label] ?? '');
      out[key] = (out[key] ?? 0) + Number(r.value[1]);
    }
    return out;
  }

  /** Polls `query` until it reports `expected` (Prometheus scrapes every second), then asserts it. */
  async function reports(promql: string, label: string, expected: Record<string, number>, message?: string): Promise<void> {
    let last: Record<string, number> = {};
    await eventually(async () => {
      last = await query(promql, label);
      return JSON.stringify(Object.entries(last).sort()) === JSON.stringify(Object.entries(expected).sort());
    }, 15_000, 500).catch(() => undefined);
    assert.deepEqual(last, expected, message ?? promql);
  }

  before(async () => {
    const binary = ensureDebianPackage('prometheus', 'prometheus');
    stack = await startTestStack('metrics');
    dir = mkdtempSync(join(tmpdir(), 'saga-prometheus-'));
    const jobs = stack.services.map((s) => `  - job_name: ${s.name}\n    static_configs:\n      - targets: ['127.0.0.1:${s.port}']`).join('\n');
    writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n${jobs}\n`);
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(binary, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    prometheus.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    await eventually(async () => {
      if (prometheus?.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
      const res = await get(`${promUrl}/api/v1/targets`);
      const targets = (res.body?.data?.activeTargets ?? []) as { health: string }[];
      return targets.length === stack.services.length && targets.every((t) => t.health === 'up');
    }, 60_000, 250);
  });
  after(async () => {
    prometheus?.kill('SIGTERM');
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('counts 100 sagas by outcome, their steps and their HTTP calls', async () => {
    await createProduct(stack, 'MET1', 10, 1_000);
    await createWallet(stack, 'CUS_MET_RICH', 10_000);
    await createWallet(stack, 'CUS_MET_POOR', 5);
    const gw = stack.url('gateway');
    const statuses: number[] = [];
    const customers = [...Array(PLACED).fill('CUS_MET_RICH'), ...Array(REFUSED).fill('CUS_MET_POOR')];
    // Ten clients, each placing its share one call at a time.
    await Promise.all(
      Array.from({ length: 10 }, async (_, c) => {
        for (let i = c; i < customers.length; i += 10) {
          const res = await post(`${gw}/orders`, { customerId: customers[i], orderItems: [{ productId: 'MET1', quantity: 1 }] });
          statuses.push(res.status);
        }
      }),
    );
    assert.equal(statuses.filter((s) => s === 201).length, PLACED, JSON.stringify(statuses));
    assert.equal(statuses.filter((s) => s === 402).length, REFUSED, JSON.stringify(statuses));

    const ended = await eventually(async () => {
      const byOutcome = await query('saga_ended_total{service="orchestrator"}', 'outcome');
      return byOutcome.COMPLETED === PLACED && byOutcome.COMPENSATED === REFUSED ? byOutcome : undefined;
    }, 30_000, 500);
    assert.deepEqual(ended, { COMPLETED: PLACED, COMPENSATED: REFUSED });
    await reports('saga_started_total{service="orchestrator"}', '', { '': PLACED + REFUSED });

    // Every saga reserved its stock; 90 payments went through and 10 were refused, whose stock was released.
    const steps = await query('saga_step_duration_seconds_count{service="orchestrator"}', 'reply');
    assert.equal(steps.OrderPaymentPendingMarked, undefined, 'the order is PAYMENT_PENDING as its saga starts: no step command');
    assert.equal(steps.StockReserved, PLACED + REFUSED);
    assert.equal(steps.PaymentCompleted, PLACED);
    assert.equal(steps.PaymentFailed, REFUSED);
    assert.equal(steps.StockReleased, REFUSED);
    assert.equal(steps.OrderFailed, REFUSED);
    assert.equal(steps.OrderConfirmed, PLACED);
    assert.equal(steps.StockCommitted, PLACED);
    const byStep = await query('saga_step_duration_seconds_count{service="orchestrator"}', 'step');
    assert.equal(byStep.processPayment, PLACED + REFUSED);
    // A step's latency is real: the payment step's sum is above zero and its p99 below its deadline.
    const paymentSeconds = await query('saga_step_duration_seconds_sum{step="processPayment"}');
    assert.ok(paymentSeconds[''] > 0, JSON.stringify(paymentSeconds));
    const p99 = (await query('histogram_quantile(0.99, sum by (le) (saga_step_duration_seconds_bucket{step="processPayment"}))'))[''];
    const deadlineSeconds = 20; // PAYMENT_TIMEOUT_MS, the orchestrator's default
    assert.ok(p99 > 0 && p99 < deadlineSeconds, `payment step p99 ${p99} s, deadline ${deadlineSeconds} s`);
    await reports('saga_duration_seconds_count{service="orchestrator"}', 'outcome', { COMPLETED: PLACED, COMPENSATED: REFUSED });

    // The gateway and the order service saw the same calls, by status.
    for (const service of ['gateway', 'order']) {
      await reports(`http_request_duration_seconds_count{service="${service}",route="/orders",method="POST"}`, 'status', { '201': PLACED, '402': REFUSED }, service);
    }
    // The participants published through their outboxes and nothing is left behind.
    const published = await query('outbox_published_total', 'service');
    for (const service of ['order', 'inventory', 'payment', 'orchestrator']) assert.ok(published[service] > 0, `${service}: ${JSON.stringify(published)}`);
    await eventually(async () => Object.values(await query('outbox_backlog', 'service')).every((n) => n === 0), 10_000, 500);
    const lag = await query('kafka_consumer_lag', 'service');
    assert.ok(Object.keys(lag).length >= 4, `consumer lag reported by ${JSON.stringify(lag)}`);
    await reports('wallet_calls_total{service="payment",operation="debit"}', 'outcome', { ok: PLACED, rejected: REFUSED });
    assert.ok((await query('process_resident_memory_bytes', 'job')).wallet > 0, 'default runtime metrics');
  });
});
