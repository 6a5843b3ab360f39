/**
 * Drives complete place-order sagas through the seed-compatible `POST /orders` against a running stack,
 * on customers and products it creates for itself (never the demo seed rows).
 *
 *   npm run bench -- --n 2000 --c 64                  closed loop: n sagas, c in flight
 *   npm run bench -- --rate 100 --duration 30         open loop: fixed arrival rate
 *
 * Prints progress, then as its last line one JSON object with n, concurrency, placed, failed,
 * sagas_per_s, p50_ms, p99_ms (and a few more), also written to .data/bench/last.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '2000' },
    c: { type: 'string', default: '64' },
    rate: { type: 'string' },
    duration: { type: 'string', default: '30' },
    url: { type: 'string', default: process.env.ORDER_URL ?? 'http://127.0.0.1:3001' },
    'inventory-url': { type: 'string', default: process.env.INVENTORY_URL ?? 'http://127.0.0.1:3002' },
    'wallet-url': { type: 'string', default: process.env.WALLET_URL ?? 'http://127.0.0.1:3004' },
    customers: { type: 'string', default: '64' },
    warmup: { type: 'string', default: '50' },
  },
});

const runId = Date.now().toString(36);
const customers = Array.from({ length: Number(args.customers) }, (_, i) => `BENCH_${runId}_C${i}`);
const products = Array.from({ length: 8 }, (_, i) => ({ id: `BENCH_${runId}_P${i}`, price: 1 + i / 4 }));

async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function setup(totalOrders: number): Promise<void> {
  for (const p of products) {
    const r = await post(`${args['inventory-url']}/internal/products`, {
      id: p.id, name: `bench product ${p.id}`, type: 'BENCH', price: p.price, available: totalOrders + 100,
    });
    if (r.status !== 201) throw new Error(`creating product ${p.id}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  for (const c of customers) {
    const r = await post(`${args['wallet-url']}/internal/wallets`, { customerId: c, balance: 1_000_000 });
    if (r.status !== 201) throw new Error(`creating wallet ${c}: ${r.status} ${JSON.stringify(r.body)}`);
  }
}

let seq = 0;
async function placeOne(): Promise<{ ok: boolean; ms: number; status: number }> {
  const i = seq++;
  const product = products[i % products.length]!;
  const started = performance.now();
  const r = await post(`${args.url}/orders`, {
    customerId: customers[i % customers.length],
    orderItems: [{ productId: product.id, quantity: 1, totalPrice: product.price }],
  }).catch(() => ({ status: 0, body: undefined }));
  return { ok: r.status === 201, ms: performance.now() - started, status: r.status };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function closedLoop(n: number, c: number, latencies: number[], statuses: Map<number, number>) {
  let next = 0;
  let done = 0;
  const progress = setInterval(() => console.error(`  ${done}/${n} sagas`), 1000);
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next < n) {
        next++;
        const r = await placeOne();
        latencies.push(r.ms);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        done++;
      }
    }),
  );
  clearInterval(progress);
}

async function openLoop(rate: number, seconds: number, latencies: number[], statuses: Map<number, number>) {
  const total = Math.round(rate * seconds);
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  const progress = setInterval(() => console.error(`  ${latencies.length}/${total} sagas`), 1000);
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(
      placeOne().then((r) => {
        latencies.push(r.ms);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }),
    );
  }
  await Promise.all(inflight);
  clearInterval(progress);
}

async function main() {
  const openLoopRate = args.rate ? Number(args.rate) : undefined;
  const n = openLoopRate ? Math.round(openLoopRate * Number(args.duration)) : Number(args.n);
  const c = Number(args.c);
  console.error(`bench ${runId}: setting up ${products.length} products and ${customers.length} wallets`);
  await setup(n + Number(args.warmup));
  console.error(`warming up with ${args.warmup} sagas`);
  await closedLoop(Number(args.warmup), Math.min(c, 16), [], new Map());

  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const started = performance.now();
  if (openLoopRate) await openLoop(openLoopRate, Number(args.duration), latencies, statuses);
  else await closedLoop(n, c, latencies, statuses);
  const seconds = (performance.now() - started) / 1000;

  const sorted = [...latencies].sort((a, b) => a - b);
  const placed = statuses.get(201) ?? 0;
  const result = {
    mode: openLoopRate ? 'open' : 'closed',
    n,
    concurrency: openLoopRate ? null : c,
    rate: openLoopRate ?? null,
    placed,
    failed: n - placed,
    statuses: Object.fromEntries(statuses),
    seconds: Number(seconds.toFixed(2)),
    sagas_per_s: Number((placed / seconds).toFixed(1)),
    p50_ms: Number(percentile(sorted, 50).toFixed(1)),
    p90_ms: Number(percentile(sorted, 90).toFixed(1)),
    p99_ms: Number(percentile(sorted, 99).toFixed(1)),
    max_ms: Number((sorted.at(-1) ?? 0).toFixed(1)),
  };
  mkdirSync('.data/bench', { recursive: true });
  writeFileSync('.data/bench/last.json', JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
