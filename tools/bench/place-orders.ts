/**
 * Drives complete place-order sagas through the seed-compatible `POST /orders` of the gateway (what a
 * user gets), on customers and products it creates for itself (never the demo seed rows).
 *
 *   npm run bench -- --n 3000 --c 64                  closed loop: n sagas, c in flight
 *   npm run bench -- --rate 100 --duration 30         open loop: fixed arrival rate
 *   npm run bench -- --n 3000 --c 64 --profile        also: CPU, commits, rows written, WAL, messages and batch sizes per saga
 *   npm run bench -- --n 3000 --c 64 --ceiling        then ../shared/bench/ceiling/run.sh 64 20, and the ratio
 *
 * Latencies (p50/p99) are over completed sagas (201); 202s (still running after the wait) and errors
 * are counted apart. In open loop each latency runs from the request's scheduled start, so a client
 * that falls behind its schedule does not hide queueing delay. Prints progress on stderr, then as
 * its last line one JSON object, also written to .data/bench/last.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { diff, formatProfile, snapshot, type Profile, type Snapshot } from './profile.ts';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '2000' },
    c: { type: 'string', default: '64' },
    rate: { type: 'string' },
    duration: { type: 'string', default: '30' },
    target: { type: 'string', default: process.env.BENCH_TARGET ?? 'http://127.0.0.1:3000' },
    'inventory-url': { type: 'string', default: process.env.INVENTORY_URL ?? 'http://127.0.0.1:3002' },
    'wallet-url': { type: 'string', default: process.env.WALLET_URL ?? 'http://127.0.0.1:3004' },
    'metrics-urls': { type: 'string', default: 'http://127.0.0.1:3001,http://127.0.0.1:3002,http://127.0.0.1:3003,http://127.0.0.1:3004,http://127.0.0.1:3005' },
    'database-url': { type: 'string', default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    customers: { type: 'string', default: '64' },
    // Steady state, not start-up: the JIT of every service and of the broker warms under load.
    'warmup-seconds': { type: 'string', default: '15' },
    profile: { type: 'boolean', default: false },
    ceiling: { type: 'boolean', default: false },
  },
});

const runId = Date.now().toString(36);
const customers = Array.from({ length: Number(args.customers) }, (_, i) => `BENCH_${runId}_C${i}`);
const products = Array.from({ length: 8 }, (_, i) => ({ id: `BENCH_${runId}_P${i}`, price: 1 + i / 4 }));

// node:http with a keep-alive pool: a bench client should cost the machine as little as it can
// (fetch costs several times more CPU per request, which the profile would charge to the system).
const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: text });
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
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

interface Tally {
  /** Latencies of completed sagas (201). */
  latencies: number[];
  statuses: Map<number, number>;
  /** First body of each failing status, to show why. */
  examples: Map<number, string>;
}

const newTally = (): Tally => ({ latencies: [], statuses: new Map(), examples: new Map() });

let seq = 0;
/** One saga; its latency runs from `startedAt` (now, or its scheduled start in open loop). */
async function placeOne(tally: Tally, startedAt = performance.now()): Promise<void> {
  const i = seq++;
  const product = products[i % products.length]!;
  const r = await post(`${args.target}/orders`, {
    customerId: customers[i % customers.length],
    orderItems: [{ productId: product.id, quantity: 1, totalPrice: product.price }],
  }).catch((err: Error) => ({ status: 0, body: { message: err.message } }));
  if (r.status === 201) tally.latencies.push(performance.now() - startedAt);
  tally.statuses.set(r.status, (tally.statuses.get(r.status) ?? 0) + 1);
  if (r.status !== 201 && !tally.examples.has(r.status)) tally.examples.set(r.status, JSON.stringify(r.body).slice(0, 200));
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const finished = (t: Tally) => [...t.statuses.values()].reduce((a, b) => a + b, 0);

async function closedLoop(n: number, c: number, tally: Tally) {
  let next = 0;
  const progress = setInterval(() => console.error(`  ${finished(tally)}/${n} sagas`), 1000);
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next < n) {
        next++;
        await placeOne(tally);
      }
    }),
  );
  clearInterval(progress);
}

/** Closed loop at concurrency c for `seconds` (its results are not counted). */
async function warmUp(seconds: number, c: number) {
  const until = performance.now() + seconds * 1000;
  const tally = newTally();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (performance.now() < until) await placeOne(tally);
    }),
  );
}

async function openLoop(rate: number, seconds: number, tally: Tally) {
  const total = Math.round(rate * seconds);
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  const progress = setInterval(() => console.error(`  ${finished(tally)}/${total} sagas`), 1000);
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(placeOne(tally, due));
  }
  await Promise.all(inflight);
  clearInterval(progress);
}

/**
 * What reaching `ratio` of the ceiling's rate would leave per saga, with the machine as busy as in
 * this run (a CPU-bound run's rate is the cores it uses over its CPU per saga), beside what Kafka and
 * PostgreSQL, the HTTP entry (the gateway and this client) and the other services took (ADR 10,
 * sixth addendum).
 */
function budgetAt(ratio: number, sagasPerS: number, ceilingSagasPerS: number, cpu: Record<string, number>) {
  const ms = (v: number) => Number(v.toFixed(2));
  const cores = (cpu.machine * sagasPerS) / 1000;
  return {
    machine_cores_busy: ms(cores),
    cpu_ms_per_saga_allowed: ms((cores * 1000) / (ratio * ceilingSagasPerS)),
    kafka_and_postgres_ms: ms(cpu.kafka + cpu.postgres),
    http_entry_ms: ms(cpu.gateway + cpu.bench_client),
    other_services_ms: ms(cpu.node_all - cpu.gateway),
  };
}

/** The machine's ceiling, run right after (same minute): its RESULT line, parsed. */
function runCeiling(c: number): Record<string, unknown> | undefined {
  const script = join(import.meta.dirname, '..', '..', '..', 'shared', 'bench', 'ceiling', 'run.sh');
  if (!existsSync(script)) {
    console.error(`no ceiling at ${script}`);
    return undefined;
  }
  console.error(`running the ceiling: ${script} ${c} 20`);
  const r = spawnSync('bash', [script, String(c), '20'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) return undefined;
  console.error(line);
  return JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>;
}

async function main() {
  const openLoopRate = args.rate ? Number(args.rate) : undefined;
  const n = openLoopRate ? Math.round(openLoopRate * Number(args.duration)) : Number(args.n);
  const c = Number(args.c);
  console.error(`bench ${runId} against ${args.target}: setting up ${products.length} products and ${customers.length} wallets`);
  const warmupSeconds = Number(args['warmup-seconds']);
  // Enough stock for the warm-up at a generous 2,000 sagas/s.
  await setup(n + warmupSeconds * 2_000);
  console.error(`warming up for ${warmupSeconds} s at concurrency ${c}`);
  await warmUp(warmupSeconds, c);

  const probe = { databaseUrl: args['database-url'], metricsUrls: args['metrics-urls'].split(','), settle: true };
  let before: Snapshot | undefined;
  if (args.profile) {
    console.error('profile: waiting for PostgreSQL statistics to settle');
    before = await snapshot(probe);
  }
  const tally = newTally();
  const started = performance.now();
  if (openLoopRate) await openLoop(openLoopRate, Number(args.duration), tally);
  else await closedLoop(n, c, tally);
  const seconds = (performance.now() - started) / 1000;
  let profile: Profile | undefined;
  if (before) {
    const atEnd = await snapshot({ ...probe, settle: false });
    const after = await snapshot(probe);
    // CPU and memory as of the end of the run; commits and metrics once their counters settled.
    profile = diff(before, { ...after, processes: atEnd.processes }, tally.statuses.get(201) ?? 0);
    console.error(formatProfile(profile));
  }

  const sorted = [...tally.latencies].sort((a, b) => a - b);
  const placed = tally.statuses.get(201) ?? 0;
  const accepted = tally.statuses.get(202) ?? 0;
  const result: Record<string, unknown> = {
    date: new Date().toISOString(),
    target: args.target,
    mode: openLoopRate ? 'open' : 'closed',
    n,
    concurrency: openLoopRate ? null : c,
    rate: openLoopRate ?? null,
    placed,
    accepted_202: accepted,
    errors: n - placed - accepted,
    statuses: Object.fromEntries(tally.statuses),
    ...(tally.examples.size > 0 ? { error_examples: Object.fromEntries(tally.examples) } : {}),
    seconds: Number(seconds.toFixed(2)),
    sagas_per_s: Number((placed / seconds).toFixed(1)),
    p50_ms: Number(percentile(sorted, 50).toFixed(1)),
    p90_ms: Number(percentile(sorted, 90).toFixed(1)),
    p99_ms: Number(percentile(sorted, 99).toFixed(1)),
    max_ms: Number((sorted.at(-1) ?? 0).toFixed(1)),
    ...(profile ? { profile } : {}),
  };
  if (args.ceiling) {
    const ceiling = runCeiling(openLoopRate ? 64 : c);
    if (ceiling) {
      const cores = ceiling.cpu_cores as { machine_busy: number };
      result.ceiling = {
        sagas_per_s: ceiling.sagas_per_s,
        p50_ms: ceiling.p50_ms,
        p99_ms: ceiling.p99_ms,
        machine_cpu_ms_per_saga: Number(((cores.machine_busy * 1000) / (ceiling.sagas_per_s as number)).toFixed(2)),
      };
      result.ratio_to_ceiling = Number(((result.sagas_per_s as number) / (ceiling.sagas_per_s as number)).toFixed(3));
      if (profile && !openLoopRate) {
        result.budget_at_0_7 = budgetAt(0.7, result.sagas_per_s as number, ceiling.sagas_per_s as number, profile.cpu_ms_per_saga);
        console.error(`at 0.7 of the ceiling: ${JSON.stringify(result.budget_at_0_7)}`);
      }
    }
  }
  mkdirSync('.data/bench', { recursive: true });
  writeFileSync('.data/bench/last.json', JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
