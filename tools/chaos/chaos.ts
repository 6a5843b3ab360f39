// `npm run chaos -- [--sagas 10000] [--faults 50] [--seed N] [--concurrency 32] [--gap-s 12]`
//
// Starts a stack of its own exactly as production runs it (every service its own process, a Kafka
// broker and a PostgreSQL cluster of the run's own, on ports of their own: the demo's data is not
// touched), drives sagas through the gateway while injecting a seeded schedule of faults (kill -9 and
// SIGTERM of every process, SIGSTOP past the consumer session timeout, broker kill -9, PostgreSQL crash
// restart, a wallet outage past the payment's retry bound, redelivery of handled messages, poison
// messages), then, with the stack quiet, checks I1–I6 in the five databases and the same questions
// through the public API. Writes .data/chaos/<run id>/{report.html,summary.json,services.log}; the last
// line printed is the summary as JSON. Exit code 1 when anything is violated.
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { isAlive, REPO_ROOT, startKafka, type RunningKafka } from '../kafka/kafka.ts';
import { startStack } from '../stack/start.ts';
import { HOLD_MS, inject, planFaults, type Fault } from './faults.ts';
import { drive, fixtureFor, planSagas, type Fixture } from './load.ts';
import { startPostgresCluster } from './postgres-cluster.ts';
import { summarize, writeReport, type ChaosSummary, type FaultResult } from './report.ts';
import { recoverySeconds, type InjectedFault } from './timeline.ts';
import { checkThroughApi, settle } from './verify.ts';

const { values } = parseArgs({
  options: {
    sagas: { type: 'string', default: '10000' },
    faults: { type: 'string', default: '50' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    concurrency: { type: 'string', default: '32' },
    'gap-s': { type: 'string', default: '12' },
    'port-base': { type: 'string', default: '20000' },
    /** Keep the run's PostgreSQL and Kafka data (by default only the report, summary and logs stay). */
    'keep-data': { type: 'boolean', default: false },
  },
});
const int = (name: string, v: string, min: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min} (got ${v})`);
  return n;
};
const sagas = int('sagas', values.sagas, 1);
const faultCount = int('faults', values.faults, 0);
const seed = int('seed', values.seed, 0);
const concurrency = int('concurrency', values.concurrency, 1);
const gapS = int('gap-s', values['gap-s'], 1);
const portBase = int('port-base', values['port-base'], 1024);

const WARMUP_MS = 10_000;
const TAIL_MS = 10_000;
/** A restart (process, broker) takes a few seconds on a busy 2-core machine. */
const RESTART_ALLOWANCE_MS = 5_000;
const command = `npm run chaos -- --sagas ${sagas} --faults ${faultCount} --seed ${seed} --concurrency ${concurrency} --gap-s ${gapS}`;
const runId = `${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}-seed${seed}`;
const dir = join(REPO_ROOT, '.data/chaos', runId);
mkdirSync(dir, { recursive: true });
const say = (msg: string): void => console.error(`[chaos] ${msg}`);

// The run's own broker and database, never the ones of the environment.
delete process.env.KAFKA_BROKERS;
const PREFIX = 'chaos';

async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

async function seedFixture(urlOf: (s: string) => string, f: Fixture): Promise<void> {
  const must = (what: string, r: { status: number; body: unknown }) => {
    if (r.status !== 201) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  };
  for (const p of f.plenty) must(`product ${p.id}`, await post(`${urlOf('inventory')}/internal/products`, { id: p.id, name: `chaos ${p.id}`, type: 'TEST', price: p.price, available: f.plentyStock }));
  must('scarce product', await post(`${urlOf('inventory')}/internal/products`, { id: f.scarce.id, name: 'chaos scarce', type: 'TEST', price: f.scarce.price, available: f.scarce.stock }));
  for (const c of f.rich) must(`wallet ${c}`, await post(`${urlOf('wallet')}/internal/wallets`, { customerId: c, balance: f.richBalance }));
  for (const c of f.poor) must(`wallet ${c}`, await post(`${urlOf('wallet')}/internal/wallets`, { customerId: c, balance: f.poorBalance }));
}

async function main(): Promise<ChaosSummary> {
  const plan = planFaults(faultCount, seed);
  const fixture = fixtureFor(runId, sagas);
  const specs = planSagas(sagas, seed + 1, fixture);
  const plannedMs = WARMUP_MS + TAIL_MS + plan.reduce((ms, f) => ms + HOLD_MS[f.kind] + RESTART_ALLOWANCE_MS + gapS * 1000, 0);
  const ratePerS = sagas / (plannedMs / 1000);
  say(`run ${runId}: ${sagas} sagas at ${ratePerS.toFixed(1)}/s over ~${Math.round(plannedMs / 1000)} s, ${plan.length} faults; ${command}`);

  const postgres = startPostgresCluster(join(dir, 'pg'), portBase + 5432);
  say(`PostgreSQL of the run at ${postgres.url}`);
  const kafkaOptions = { dataDir: join(dir, 'kafka'), port: portBase + 9092, controllerPort: portBase + 9093 };
  let kafka: RunningKafka = await startKafka(kafkaOptions);
  say(`Kafka of the run at ${kafka.brokers}`);
  const log = createWriteStream(join(dir, 'services.log'));
  const stack = await startStack({
    databaseUrl: postgres.url,
    brokers: kafka.brokers,
    portOffset: portBase,
    dbNamePrefix: PREFIX,
    // A key of the run's own, as production sets JWT_SECRET: tokens outlive a restarted gateway.
    env: { LOG_LEVEL: 'info', RATE_LIMIT_MAX: '100000000', JWT_SECRET: randomBytes(32).toString('base64url') },
    output: (service, line) => {
      if (!log.writableEnded) log.write(`${service} ${line}\n`);
    },
    readyTimeoutMs: 120_000,
  });
  try {
    await seedFixture(stack.url, fixture);
    const gateway = stack.url('gateway');
    const operatorToken = async (): Promise<string> => {
      const login = await post(`${gateway}/api/auth/login`, { username: 'operator', password: 'operator-pass' });
      if (login.status !== 200) throw new Error(`operator login: ${login.status}`);
      return login.body.token as string;
    };
    const token = await operatorToken();

    const targets = {
      stack,
      postgres,
      kafka: {
        get brokers() {
          return kafka.brokers;
        },
        kill: async () => {
          const pid = kafka.pid as number;
          process.kill(pid, 'SIGKILL');
          for (let i = 0; i < 100 && isAlive(pid); i++) await delay(100);
        },
        start: async () => {
          kafka = await startKafka(kafkaOptions);
        },
      },
    };

    const t0 = performance.now();
    const now = () => performance.now() - t0;
    const driving = drive({ gateway, token, specs, ratePerS, concurrency, t0, runKey: runId });
    const injected: InjectedFault[] = [];
    const spacing = plan.length > 0 ? (plannedMs - WARMUP_MS - TAIL_MS) / plan.length : 0;
    let settledAt = WARMUP_MS;
    for (const [i, fault] of plan.entries()) {
      // On its planned time, but never before the previous fault had its gap to recover in.
      const due = Math.max(WARMUP_MS + i * spacing, settledAt);
      if (due > now()) await delay(due - now());
      const atMs = now();
      say(`${(atMs / 1000).toFixed(1)} s: ${fault.kind} ${fault.target}`);
      let what: string;
      try {
        what = await inject(fault as Fault, targets);
      } catch (err) {
        what = `FAILED to inject: ${(err as Error).message}`;
        say(what);
      }
      injected.push({ kind: fault.kind, target: fault.target, atMs, doneMs: now(), what });
      settledAt = now() + gapS * 1000;
    }
    const records = await driving;
    const durationS = Math.round(now() / 1000);
    writeFileSync(join(dir, 'records.json'), JSON.stringify({ faults: injected, records }));
    say(`${records.length} sagas answered in ${durationS} s; waiting for the stack to settle`);

    const invariants = await settle(postgres.url, PREFIX, 180_000);
    const api = await checkThroughApi(gateway, await operatorToken(), fixture, records);
    const faults: FaultResult[] = injected.map((f, i) => ({ ...f, recoveryS: recoverySeconds(records, f, injected[i + 1]?.atMs ?? durationS * 1000, ratePerS) }));
    const report = join(dir, 'report.html');
    const summary = summarize({ runId, seed, command, records, faults, invariants, api, durationS, report: relative(REPO_ROOT, report) });
    writeReport(dir, summary, records, faults);
    for (const v of [...invariants.violations, ...api.flatMap((c) => c.violations.map((x) => `${c.question}: ${x}`))].slice(0, 30)) say(`VIOLATION ${v}`);
    for (const [kind, r] of Object.entries(summary.recoveryByKind)) say(`recovery ${kind}: n=${r.n} p50 ${r.p50_s ?? '–'} s, max ${r.max_s ?? '–'} s, not recovered ${r.unrecovered}`);
    say(`report: ${summary.report}`);
    return summary;
  } finally {
    await stack.stop().catch((err: Error) => say(`stopping the stack: ${err.message}`));
    await kafka.stop().catch(() => {});
    log.end();
    try {
      postgres.stop();
    } catch (err) {
      say(`stopping PostgreSQL: ${(err as Error).message}`);
    }
    if (!values['keep-data']) for (const data of ['pg', 'kafka']) rmSync(join(dir, data), { recursive: true, force: true });
  }
}

try {
  const summary = await main();
  // Last, once the stack is down (its own lines go to stdout too): the summary line.
  console.log(
    JSON.stringify({ sagas: summary.sagas, faults: summary.faults, violations: summary.violations, recovery_p50_s: summary.recovery_p50_s, recovery_max_s: summary.recovery_max_s, report: summary.report }),
  );
  process.exitCode = summary.violations === 0 ? 0 : 1;
} catch (err) {
  say(`failed: ${(err as Error).stack ?? (err as Error).message}`);
  process.exitCode = 2;
}
