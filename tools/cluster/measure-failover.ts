// Failover drill on the scale-out rig (ADR 13): a three-node Kafka cluster and two instances of every
// service on ports and databases of its own, a steady stream of one-call orders through the gateway,
// then one fault at a time — a broker killed with kill -9, then one instance of each service — each
// restarted after an observation window. Prints the longest pause in completed sagas after each kill
// against the 5 s target, the failed client requests, and a last line of JSON.
//
//   node tools/cluster/measure-failover.ts [--rate 20] [--concurrency 64] [--observe 15] [--settle 10]
//     [--faults broker:2,order,inventory,payment,wallet,orchestrator] [--port-offset 21000] [--kafka-port 39092]
//
// Needs `npm run build` and PostgreSQL (DATABASE_URL). Its databases (`failover_<time>_<service>_db`)
// and Kafka data (.data/failover-cluster) are removed afterwards.
import { createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { checkInvariants, databaseNames } from '../invariants/check.ts';
import type { CheckResult } from '../invariants/check.ts';
import { REPO_ROOT } from '../kafka/kafka.ts';
import { startKafkaCluster } from '../kafka/cluster.ts';
import type { RunningKafkaCluster } from '../kafka/cluster.ts';
import { runCli, SERVICES, startStack } from '../stack/start.ts';
import type { Stack, StackOutput } from '../stack/start.ts';
import { completionRate, failedRequests, longestPause, startOrderStream } from './failover.ts';
import type { StreamedOrder } from './failover.ts';

/** A fault: `broker:<node id>` or a service name (its second instance is killed). */
export type Fault = string;

export interface FaultResult {
  fault: Fault;
  /** What was killed (`kafka-2`, `order-2`). */
  target: string;
  /** ms since the stream started. */
  killedAtMs: number;
  restartedAtMs: number;
  /** Longest time without a completed saga from the kill to the restart. */
  pauseMs: number;
  /** Completions per second in the same window. */
  ratePerS: number;
  /** How long the restart took until the node served with replicas in sync / the instance answered /health. */
  restartMs: number;
}

export interface DrillOptions {
  ratePerS?: number;
  concurrency?: number;
  /** Seconds of stream before the first fault. */
  warmupS?: number;
  /** Seconds watched after a kill before the restart. */
  observeS?: number;
  /** Seconds after a restart before the next fault. */
  settleS?: number;
  faults?: Fault[];
  portOffset?: number;
  kafkaPort?: number;
  databaseUrl?: string;
  /** Where service and cluster lines go (default nowhere). */
  output?: StackOutput;
  /** Progress lines. Default console.log. */
  say?: (line: string) => void;
}

export interface DrillResult {
  results: FaultResult[];
  /** Longest pause during the warm-up's second half (no fault): the noise floor. */
  baselinePauseMs: number;
  baselineRatePerS: number;
  orders: StreamedOrder[];
  failed: StreamedOrder[];
  prefix: string;
  /** Waits until every saga ended, then checks DESIGN §6's invariants (call before stop). */
  settleAndCheck(timeoutMs?: number): Promise<CheckResult>;
  /** Orders acknowledged to the client (201 / 202) that are missing from the order database. */
  missingOrders(): Promise<string[]>;
  stop(): Promise<void>;
}

export const DEFAULT_FAULTS: Fault[] = ['broker:2', 'order', 'inventory', 'payment', 'wallet', 'orchestrator'];

/**
 * Environment of every service on the rig: group members that vanish lose their partitions after 3 s
 * (the cluster's brokers allow session timeouts down to 1 s); the gateway checks instances every 250 ms.
 */
export const CLUSTER_SERVICE_ENV: Record<string, string> = {
  KAFKA_SESSION_TIMEOUT_MS: '3000',
};

async function post(url: string, body: unknown, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Starts the rig, runs the stream and the faults; the caller checks and stops. */
export async function runDrill(o: DrillOptions = {}): Promise<DrillResult> {
  const say = o.say ?? ((line: string) => console.log(line));
  const databaseUrl = o.databaseUrl ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
  const prefix = `failover_${Date.now().toString(36)}`;
  const dataDir = join(REPO_ROOT, '.data', `${prefix}-cluster`);
  const output = o.output ?? 'silent';
  let cluster: RunningKafkaCluster | undefined;
  let stack: Stack | undefined;
  const stop = async (): Promise<void> => {
    await stack?.stop();
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      for (const name of Object.values(databaseNames(prefix))) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await client.end();
    }
  };
  try {
    const t0 = Date.now();
    cluster = await startKafkaCluster({
      dataDir,
      basePort: o.kafkaPort ?? 39092,
      say: typeof output === 'function' ? (line) => output('cluster', line) : () => {},
    });
    say(`[failover] 3 Kafka nodes at ${cluster.brokers} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    stack = await startStack({
      instances: Object.fromEntries(SERVICES.map((s) => [s.name, s.name === 'gateway' ? 1 : 2])),
      brokers: cluster.brokers,
      portOffset: o.portOffset ?? 21_000,
      dbNamePrefix: prefix,
      databaseUrl,
      env: { LOG_LEVEL: 'info', HEALTH_INTERVAL_MS: '250', RATE_LIMIT_MAX: '1000000', ...CLUSTER_SERVICE_ENV },
      output,
      readyTimeoutMs: 90_000,
    });
    say(`[failover] 2 instances of every service ready in ${((Date.now() - t0) / 1000).toFixed(1)} s; gateway ${stack.url('gateway')}`);
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  const s = stack;
  const c = cluster;
  const gateway = s.url('gateway');
  const tag = prefix.slice(-6).toUpperCase();
  const productId = `PFO_${tag}`;
  const customers = Array.from({ length: 20 }, (_, i) => `CFO${i}_${tag}`);
  const created = await post(`${s.url('inventory')}/internal/products`, { id: productId, name: `failover ${productId}`, type: 'TEST', price: 1, available: 10_000_000 });
  if (created.status !== 201) throw new Error(`creating product: ${created.status} ${JSON.stringify(created.body)}`);
  for (const customerId of customers) {
    const w = await post(`${s.url('wallet')}/internal/wallets`, { customerId, balance: 1_000_000_000 });
    if (w.status !== 201) throw new Error(`creating wallet: ${w.status} ${JSON.stringify(w.body)}`);
  }
  const login = await post(`${gateway}/api/auth/login`, { username: 'operator', password: 'operator-pass' });
  if (login.status !== 200) throw new Error(`operator login: ${login.status}`);

  const stream = startOrderStream({
    gateway,
    token: login.body.token as string,
    ratePerS: o.ratePerS ?? 20,
    concurrency: o.concurrency ?? 64,
    customers,
    productId,
    keyPrefix: prefix,
  });
  const warmupS = o.warmupS ?? 10;
  await delay(warmupS * 1000);
  const baseline = longestPause(stream.orders, (warmupS * 1000) / 2, warmupS * 1000);
  const baselineRatePerS = completionRate(stream.orders, (warmupS * 1000) / 2, warmupS * 1000);
  say(`[failover] baseline: ${baselineRatePerS.toFixed(1)} sagas/s, longest pause ${Math.round(baseline.pauseMs)} ms`);

  const results: FaultResult[] = [];
  for (const fault of o.faults ?? DEFAULT_FAULTS) {
    const broker = /^broker:(\d+)$/.exec(fault);
    const target = broker ? `kafka-${broker[1]}` : `${fault}-2`;
    const killedAtMs = stream.now();
    if (broker) await c.killNode(Number(broker[1]), 'SIGKILL');
    else await s.stopService(target, 'SIGKILL');
    await delay((o.observeS ?? 15) * 1000);
    const restartedAtMs = stream.now();
    if (broker) await c.startNode(Number(broker[1]), 120_000);
    else await s.startService(target);
    const restartMs = stream.now() - restartedAtMs;
    const pause = longestPause(stream.orders, killedAtMs, restartedAtMs);
    const ratePerS = completionRate(stream.orders, killedAtMs, restartedAtMs);
    results.push({ fault, target, killedAtMs, restartedAtMs, pauseMs: pause.pauseMs, ratePerS, restartMs });
    say(`[failover] kill -9 ${target}: longest pause ${Math.round(pause.pauseMs)} ms (from ${((pause.atMs - killedAtMs) / 1000).toFixed(1)} s after the kill), ${ratePerS.toFixed(1)} sagas/s; back in ${(restartMs / 1000).toFixed(1)} s`);
    await delay((o.settleS ?? 10) * 1000);
  }
  const orders = await stream.stop();
  const failed = failedRequests(orders);
  const names = databaseNames(prefix);
  const check = (): Promise<CheckResult> => checkInvariants({ serverUrl: databaseUrl, databases: names });
  return {
    results,
    baselinePauseMs: baseline.pauseMs,
    baselineRatePerS,
    orders,
    failed,
    prefix,
    settleAndCheck: async (timeoutMs = 120_000) => {
      const deadline = Date.now() + timeoutMs;
      let last = await check();
      while (!last.ok && Date.now() < deadline) {
        await delay(500);
        last = await check();
      }
      return last;
    },
    missingOrders: async () => {
      const url = new URL(databaseUrl);
      url.pathname = `/${names.order}`;
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      try {
        const ids = orders.filter((r) => r.orderId !== undefined).map((r) => r.orderId as string);
        const found = new Set((await client.query<{ id: string }>('SELECT id FROM orders WHERE id = ANY($1)', [ids])).rows.map((r) => r.id));
        return orders.filter((r) => (r.status === 201 || r.status === 202) && (r.orderId === undefined || !found.has(r.orderId))).map((r) => r.key);
      } finally {
        await client.end();
      }
    },
    stop,
  };
}

async function cli(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      rate: { type: 'string', default: '20' },
      concurrency: { type: 'string', default: '64' },
      warmup: { type: 'string', default: '10' },
      observe: { type: 'string', default: '15' },
      settle: { type: 'string', default: '10' },
      faults: { type: 'string', default: DEFAULT_FAULTS.join(',') },
      'port-offset': { type: 'string', default: '21000' },
      'kafka-port': { type: 'string', default: '39092' },
      log: { type: 'string' },
    },
  });
  const num = (name: keyof typeof values): number => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number, got "${values[name]}"`);
    return n;
  };
  // Service and node lines go to --log as they come (a stalled drill still leaves its evidence).
  const log = values.log !== undefined ? createWriteStream(values.log) : undefined;
  const drill = await runDrill({
    ratePerS: num('rate'),
    concurrency: num('concurrency'),
    warmupS: num('warmup'),
    observeS: num('observe'),
    settleS: num('settle'),
    faults: (values.faults ?? '').split(',').filter(Boolean),
    portOffset: num('port-offset'),
    kafkaPort: num('kafka-port'),
    output: log ? (service, line) => void (log.writableEnded || log.write(`${service} ${line}\n`)) : 'silent',
  });
  try {
    const check = await drill.settleAndCheck();
    const missing = await drill.missingOrders();
    const unfinished = drill.orders.filter((r) => r.completedMs === undefined && (r.status === 201 || r.status === 202));
    console.log('');
    console.log('| kill -9 | longest pause in completed sagas | target | sagas/s meanwhile | restart until ready |');
    console.log('|---|---|---|---|---|');
    console.log(`| (none: baseline) | ${Math.round(drill.baselinePauseMs)} ms | | ${drill.baselineRatePerS.toFixed(1)} | |`);
    for (const r of drill.results) {
      console.log(`| ${r.target} | ${Math.round(r.pauseMs)} ms | ${r.pauseMs <= 5000 ? '≤ 5 s ✓' : '> 5 s ✗'} | ${r.ratePerS.toFixed(1)} | ${(r.restartMs / 1000).toFixed(1)} s |`);
    }
    console.log('');
    console.log(`orders: ${drill.orders.length}, failed client requests: ${drill.failed.length}, not finished: ${unfinished.length}, acknowledged but missing: ${missing.length}; invariants ${check.ok ? 'hold' : `VIOLATED: ${check.violations.join('; ')}`}`);
    for (const f of drill.failed.slice(0, 10)) console.log(`  failed: ${f.key} at ${(f.sentMs / 1000).toFixed(1)} s: ${f.error}`);
    console.log(
      JSON.stringify({
        baselinePauseMs: Math.round(drill.baselinePauseMs),
        pauses: Object.fromEntries(drill.results.map((r) => [r.target, Math.round(r.pauseMs)])),
        orders: drill.orders.length,
        failed: drill.failed.length,
        missing: missing.length,
        invariants: check.ok,
      }),
    );
    const ok = drill.failed.length === 0 && missing.length === 0 && check.ok && drill.results.every((r) => r.pauseMs <= 5000);
    return ok ? 0 : 1;
  } finally {
    await drill.stop();
    log?.end();
  }
}

runCli(import.meta, 'failover', cli);
