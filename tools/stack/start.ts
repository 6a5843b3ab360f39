// Runs the whole system on real Kafka + PostgreSQL: Kafka (unless KAFKA_BROKERS), then every service
// as its own supervised child process (`npm run start:kafka`, after `npm run build`).
//
//   node tools/stack/start.ts [service ...]     e.g. `node tools/stack/start.ts order inventory`
//
// Env: KAFKA_BROKERS (use that cluster), DATABASE_URL, STACK_PORT_OFFSET, STACK_READY_TIMEOUT_MS (120000),
// STACK_DB_PREFIX (databases `<prefix>_<service>_db` instead of the demo ones), STACK_INSTANCES
// (e.g. `order=2,payment=2`: further instances 100 ports up, balanced by the gateway),
// STACK_LOG_FORMAT (pretty | json; pretty when stdout is a terminal), STACK_NODE_FLAGS (Node flags of
// every service; default SERVICE_NODE_FLAGS), plus anything the services read.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { REPO_ROOT, portInUse, startKafka } from '../kafka/kafka.ts';
import type { KafkaOptions, RunningKafka } from '../kafka/kafka.ts';

export interface ServiceSpec {
  name: string;
  port: number;
  /** Env var → service whose URL it gets, so a port offset or map still wires services together. */
  links?: Record<string, string>;
  /** Its links get every instance of the target (comma-separated), not the first: it balances them. */
  balancesLinks?: boolean;
}

/** Every service of the stack, in start order. Adding one is one line. */
export const SERVICES: readonly ServiceSpec[] = [
  { name: 'order', port: 3001, links: { INVENTORY_URL: 'inventory', WALLET_URL: 'wallet' } },
  { name: 'inventory', port: 3002 },
  { name: 'payment', port: 3003, links: { WALLET_URL: 'wallet' } },
  { name: 'wallet', port: 3004 },
  { name: 'orchestrator', port: 3005 },
  // The single entry point; last, and ready only once every service above answers /health.
  {
    name: 'gateway',
    port: 3000,
    links: { ORDER_URL: 'order', INVENTORY_URL: 'inventory', PAYMENT_URL: 'payment', WALLET_URL: 'wallet', ORCHESTRATOR_URL: 'orchestrator' },
    balancesLinks: true,
  },
];

const HOST = '127.0.0.1';
/**
 * Node flags of every service process (the image sets the same in NODE_OPTIONS): a young generation
 * of 8 MB semi-spaces instead of V8's default (which grows to tens of MB per process on a large
 * machine) and a bounded old space keep each service near 150–190 MB resident under load instead of
 * 200–400 (ADR 10). The price is GC work: on a saturated 2-core machine the open-loop p99 rose from
 * ~460 to ~610 ms. STACK_NODE_FLAGS replaces them (space-separated; empty for V8's defaults). Source
 * maps stay off (~15 MB a process); add --enable-source-maps there for debugging.
 */
export const SERVICE_NODE_FLAGS = (process.env.STACK_NODE_FLAGS ?? '--max-semi-space-size=8 --max-old-space-size=128').split(/\s+/).filter(Boolean);
/** glibc malloc arenas per process (default 8 × cores): a few suffice for one JS thread and libuv's pool. */
const MALLOC_ARENA_MAX = '2';
const INSTANCE_PORT_STEP = 100;
const PARENT_WATCH = join(import.meta.dirname, 'parent-watch.ts');
const STOP_TIMEOUT_MS = 10_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 15_000;
/** A child that ran this long without exiting is considered stable: its backoff starts over. */
const STABLE_AFTER_MS = 30_000;

export type StackOutput = 'inherit' | 'silent' | ((service: string, line: string) => void);

export interface StackOptions {
  /** Only these services (default: all of SERVICES whose dist/main.js exists). */
  services?: string[];
  /** Port per service (or instance) name; wins over `portOffset`. */
  ports?: Record<string, number>;
  /**
   * Instances per service (default 1). Instance i > 1 is named `<service>-<i>` (for stopService /
   * startService / url), listens 100 × (i − 1) ports above the first, and shares its database and
   * consumer group; the gateway balances over all of them.
   */
  instances?: Record<string, number>;
  /** Added to every default port (e.g. 100 → order on 3101). */
  portOffset?: number;
  /** Env for every service (on top of process.env). */
  env?: Record<string, string>;
  /** Env per service name (or instance name, on top of its service's), on top of `env`. */
  serviceEnv?: Record<string, Record<string, string>>;
  /** Sets DB_NAME of each service to `<prefix>_<service>_db`, so a test gets its own databases. */
  dbNamePrefix?: string;
  /** Use this Kafka (comma-separated bootstrap list) instead of starting one. Default: KAFKA_BROKERS, else start one. */
  brokers?: string;
  /** Options for the Kafka this stack starts when it has no brokers. */
  kafka?: KafkaOptions;
  /** Default DATABASE_URL or postgres://postgres@127.0.0.1:5432. */
  databaseUrl?: string;
  /** Bound for every service answering GET /health 200. Default 120 s. */
  readyTimeoutMs?: number;
  /** Where service output goes: prefixed lines on stdout (default), nowhere, or a callback. */
  output?: StackOutput;
  /** Restart a service that exits unexpectedly, with exponential backoff. Default true. */
  restart?: boolean;
  /** Aborting it during start-up stops whatever was started and rejects. */
  signal?: AbortSignal;
}

export interface StackService {
  name: string;
  url: string;
  port: number;
  /** DB_NAME given to it, when `dbNamePrefix` was set. */
  dbName: string | undefined;
}

export interface Stack {
  services: StackService[];
  brokers: string;
  /** Base URL of one service. @example stack.url('order') === 'http://127.0.0.1:3001' */
  url(name: string): string;
  /**
   * Sends `signal` to one service (no automatic restart) and resolves once it exited, with how
   * (`code 0`, `signal SIGKILL`...; undefined when it was not running). After 10 s it gets SIGKILL.
   */
  stopService(name: string, signal?: NodeJS.Signals): Promise<string | undefined>;
  /**
   * (Re)starts one service and resolves once its GET /health answers 200. `env` is set on top of
   * the service's env from this start on (restarts by the supervisor included); it takes effect
   * only when the service is not running (stop it first).
   */
  startService(name: string, env?: Record<string, string>): Promise<void>;
  /** Process id of a running service (for signals the stack does not send itself, e.g. SIGSTOP). */
  pidOf(name: string): number;
  /** SIGTERM every service (bounded, then SIGKILL), then stop the Kafka this stack started. */
  stop(): Promise<void>;
}

interface ServiceState {
  /** The service's name, or `<service>-<i>` for its further instances. */
  name: string;
  spec: ServiceSpec;
  port: number;
  url: string;
  main: string;
  env: NodeJS.ProcessEnv;
  child: ChildProcess | undefined;
  exited: Promise<void>;
  /** Whether the supervisor wants it running (false after stopService / stop). */
  wanted: boolean;
  failures: number;
  startedAt: number;
  restartTimer: NodeJS.Timeout | undefined;
  lastExit: string | undefined;
}

const COLORS = [36, 32, 35, 33, 34, 31, 96, 92];
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_COLORS: Record<number, number> = { 40: 33, 50: 31, 60: 31 };

function secondsSince(t0: number): string {
  return ((Date.now() - t0) / 1000).toFixed(1);
}

/** Renders a pino JSON line readably: `09:31:02.123 INFO  message {extra}` (falls back to the raw line). */
function prettyLine(line: string, color: boolean): string {
  if (!line.startsWith('{')) return line;
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof o.level !== 'number' || typeof o.msg !== 'string') return line;
  const { level, time, msg, pid: _pid, hostname: _host, service: _service, err, ...rest } = o;
  const when = typeof time === 'number' || typeof time === 'string' ? new Date(time).toISOString().slice(11, 23) : '';
  const name = LEVELS[level] ?? String(level);
  const tint = LEVEL_COLORS[level];
  const levelText = color && tint !== undefined ? `\x1b[${tint}m${name}\x1b[0m` : name;
  const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
  const stack = err && typeof err === 'object' && 'stack' in err ? `\n${String((err as { stack: unknown }).stack)}` : err ? ` err=${JSON.stringify(err)}` : '';
  return `${when} ${levelText} ${msg}${extra}${stack}`;
}

/** Where a service's log lines go: `<service> | line`, pretty in a terminal (STACK_LOG_FORMAT), or as `output` says. */
export function makePrinter(output: StackOutput, names: string[]): (service: string, line: string) => void {
  if (output === 'silent') return () => {};
  if (typeof output === 'function') return output;
  const tty = process.stdout.isTTY === true;
  const pretty = (process.env.STACK_LOG_FORMAT ?? (tty ? 'pretty' : 'json')) === 'pretty';
  const width = Math.max(5, ...names.map((n) => n.length));
  return (service, line) => {
    const index = names.indexOf(service);
    const label = service.padEnd(width);
    const prefix = tty ? `\x1b[${COLORS[(index < 0 ? 0 : index) % COLORS.length]}m${label} |\x1b[0m` : `${label} |`;
    const text = pretty ? prettyLine(line, tty) : line;
    for (const part of text.split('\n')) process.stdout.write(`${prefix} ${part}\n`);
  };
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

function isRunning(child: ChildProcess | undefined): child is ChildProcess {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/**
 * Starts Kafka (unless brokers are given) and every service as a supervised child process, and
 * resolves once each answers `GET /health` with 200.
 *
 * @example
 * const stack = await startStack({ portOffset: 200, dbNamePrefix: 'e2e_abc', brokers: process.env.KAFKA_BROKERS });
 * try {
 *   await fetch(`${stack.url('order')}/orders`, ...);
 *   await stack.stopService('payment', 'SIGKILL');
 *   await stack.startService('payment');
 * } finally { await stack.stop(); }
 */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const t0 = Date.now();
  const say = (message: string): void => {
    if (opts.output !== 'silent') console.log(`[stack] ${message}`);
  };
  const offset = opts.portOffset ?? 0;
  const wantedNames = opts.services;
  const unknown = (wantedNames ?? []).filter((n) => !SERVICES.some((s) => s.name === n));
  if (unknown.length > 0) throw new Error(`unknown service(s): ${unknown.join(', ')} (known: ${SERVICES.map((s) => s.name).join(', ')})`);
  const specs = SERVICES.filter((s) => wantedNames === undefined || wantedNames.includes(s.name));
  const portOf = (name: string): number => {
    const spec = SERVICES.find((s) => s.name === name);
    if (spec === undefined) throw new Error(`unknown service ${name}`);
    return opts.ports?.[name] ?? spec.port + offset;
  };
  const instanceNames = (name: string): string[] => {
    const n = opts.instances?.[name] ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new Error(`instances of ${name} must be a positive integer, got ${n}`);
    return Array.from({ length: n }, (_, i) => (i === 0 ? name : `${name}-${i + 1}`));
  };
  const instancePort = (name: string, index: number): number => opts.ports?.[instanceNames(name)[index]] ?? portOf(name) + INSTANCE_PORT_STEP * index;
  const readyTimeoutMs = opts.readyTimeoutMs ?? Number(process.env.STACK_READY_TIMEOUT_MS ?? 120_000);
  const restart = opts.restart ?? true;

  const present = specs.filter((spec) => {
    const main = join(REPO_ROOT, 'apps', spec.name, 'dist/main.js');
    if (existsSync(main)) return true;
    console.warn(`[stack] warning: skipping ${spec.name}: ${main} does not exist (run npm run build)`);
    return false;
  });
  if (present.length === 0) throw new Error('no service to start (nothing built? run npm run build)');
  // Fail before starting anything when a port is taken: a crash-looping EADDRINUSE helps nobody.
  const busy: string[] = [];
  for (const spec of present) {
    for (const [index, name] of instanceNames(spec.name).entries()) {
      const port = instancePort(spec.name, index);
      if (await portInUse(port)) busy.push(`${name} ${HOST}:${port}`);
    }
  }
  if (busy.length > 0) throw new Error(`port(s) already in use: ${busy.join(', ')} (another stack running? set a port offset)`);

  let kafka: RunningKafka | undefined;
  const brokersGiven = opts.brokers ?? process.env.KAFKA_BROKERS?.trim();
  if (brokersGiven) {
    say(`using Kafka at ${brokersGiven}`);
  } else {
    say('starting Kafka ...');
    kafka = await startKafka(opts.kafka);
    say(`Kafka ready at ${kafka.brokers} in ${secondsSince(t0)} s`);
    if (opts.signal?.aborted) {
      await kafka.stop();
      throw new Error('stack stopped during start-up');
    }
  }
  const brokers = brokersGiven || (kafka as RunningKafka).brokers;
  const databaseUrl = opts.databaseUrl ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
  const print = makePrinter(opts.output ?? 'inherit', present.flatMap((s) => instanceNames(s.name)));

  const states = new Map<string, ServiceState>();
  for (const spec of present) for (const [index, name] of instanceNames(spec.name).entries()) {
    const port = instancePort(spec.name, index);
    const links: Record<string, string> = {};
    for (const [variable, target] of Object.entries(spec.links ?? {})) {
      const targets = spec.balancesLinks ? instanceNames(target).map((_, i) => instancePort(target, i)) : [portOf(target)];
      links[variable] = targets.map((p) => `http://${HOST}:${p}`).join(',');
    }
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOST,
      ...links,
      ...opts.env,
      ...opts.serviceEnv?.[spec.name],
      ...(name === spec.name ? {} : opts.serviceEnv?.[name]),
      PORT: String(port),
      KAFKA_BROKERS: brokers,
      DATABASE_URL: databaseUrl,
    };
    if (opts.dbNamePrefix !== undefined) env.DB_NAME = `${opts.dbNamePrefix}_${spec.name}_db`;
    states.set(name, {
      name,
      spec,
      port,
      url: `http://${HOST}:${port}`,
      main: join(REPO_ROOT, 'apps', spec.name, 'dist/main.js'),
      env,
      child: undefined,
      exited: Promise.resolve(),
      wanted: false,
      failures: 0,
      startedAt: 0,
      restartTimer: undefined,
      lastExit: undefined,
    });
  }

  let stopping = false;
  const killAllOnExit = (): void => {
    for (const s of states.values()) if (isRunning(s.child)) s.child.kill('SIGTERM');
  };
  process.once('exit', killAllOnExit);

  const spawnService = (s: ServiceState): void => {
    const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, '--import', PARENT_WATCH, s.main], {
      cwd: REPO_ROOT,
      env: { MALLOC_ARENA_MAX, ...s.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Own process group: a terminal Ctrl-C reaches the supervisor, which stops services in order.
      detached: true,
    });
    s.child = child;
    s.startedAt = Date.now();
    // The supervisor's own handles (or the CLI's keep-alive) decide how long this process lives.
    child.unref();
    child.channel?.unref();
    for (const stream of [child.stdout, child.stderr] as Readable[]) {
      (stream as Readable & { unref?: () => void }).unref?.();
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => print(s.name, line));
    }
    s.exited = new Promise((done) => {
      child.once('error', (err) => {
        s.lastExit = `spawn failed: ${err.message}`;
      });
      child.once('exit', (code, signal) => {
        s.lastExit = signal ? `signal ${signal}` : `code ${code}`;
        done();
        if (stopping || !s.wanted || child !== s.child) return;
        if (!restart) {
          say(`${s.name} exited unexpectedly (${s.lastExit}); not restarting`);
          return;
        }
        if (Date.now() - s.startedAt >= STABLE_AFTER_MS) s.failures = 0;
        const wait = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** s.failures);
        s.failures += 1;
        say(`${s.name} exited unexpectedly (${s.lastExit}); restart #${s.failures} in ${(wait / 1000).toFixed(1)} s`);
        s.restartTimer = setTimeout(() => {
          s.restartTimer = undefined;
          if (stopping || !s.wanted) return;
          spawnService(s);
          const respawned = s.child;
          void waitHealthy(s, Date.now() + readyTimeoutMs).then((ok) => {
            // Only the latest incarnation reports (an earlier wait may see a later child healthy).
            if (ok && s.child === respawned) say(`${s.name} is back and ready at ${s.url}`);
          });
        }, wait);
      });
    });
  };

  /** Polls GET /health until 200; false when the deadline passes or the service is no longer wanted. */
  const waitHealthy = async (s: ServiceState, deadline: number): Promise<boolean> => {
    while (Date.now() < deadline && s.wanted && !stopping) {
      if (isRunning(s.child) && (await isHealthy(s.url))) return true;
      await delay(250);
    }
    return false;
  };

  const stopOne = async (s: ServiceState, signal: NodeJS.Signals, timeoutMs = STOP_TIMEOUT_MS): Promise<string | undefined> => {
    s.wanted = false;
    if (s.restartTimer !== undefined) clearTimeout(s.restartTimer);
    s.restartTimer = undefined;
    const child = s.child;
    if (!isRunning(child)) return undefined;
    child.kill(signal);
    const timer = setTimeout(() => {
      if (isRunning(child)) {
        say(`${s.name} did not stop within ${timeoutMs / 1000} s, sending SIGKILL`);
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    await s.exited;
    clearTimeout(timer);
    return s.lastExit;
  };

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      stopping = true;
      say('stopping services ...');
      await Promise.all([...states.values()].map((s) => stopOne(s, 'SIGTERM')));
      process.removeListener('exit', killAllOnExit);
      if (kafka !== undefined) {
        say('stopping Kafka ...');
        await kafka.stop();
      }
      say('stopped');
    })();
    return stopped;
  };
  const onAbort = (): void => void stop();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) void stop();

  const stateOf = (name: string): ServiceState => {
    const s = states.get(name);
    if (s === undefined) throw new Error(`service ${name} is not part of this stack (${[...states.keys()].join(', ')})`);
    return s;
  };

  for (const s of states.values()) {
    s.wanted = true;
    spawnService(s);
  }
  const deadline = Date.now() + readyTimeoutMs;
  const ready = await Promise.all(
    [...states.values()].map(async (s) => {
      const ok = await waitHealthy(s, deadline);
      if (ok) say(`${s.name.padEnd(12)} ready at ${s.url} (${secondsSince(t0)} s)`);
      return ok ? undefined : `${s.name} (${s.url}/health${s.lastExit ? `; last exit ${s.lastExit}` : ''})`;
    }),
  );
  opts.signal?.removeEventListener('abort', onAbort);
  const notReady = ready.filter((r) => r !== undefined);
  if (stopping || notReady.length > 0) {
    const aborted = stopping;
    await stop();
    throw new Error(aborted ? 'stack stopped during start-up' : `not ready within ${readyTimeoutMs / 1000} s: ${notReady.join(', ')}`);
  }
  say(`all services ready in ${secondsSince(t0)} s`);

  return {
    services: [...states.values()].map((s) => ({ name: s.name, url: s.url, port: s.port, dbName: opts.dbNamePrefix === undefined ? undefined : s.env.DB_NAME })),
    brokers,
    url: (name) => stateOf(name).url,
    stopService: (name, signal = 'SIGTERM') => stopOne(stateOf(name), signal),
    startService: async (name, env) => {
      const s = stateOf(name);
      if (stopping) throw new Error('the stack is stopping');
      if (env) s.env = { ...s.env, ...env };
      if (!isRunning(s.child)) {
        s.wanted = true;
        s.failures = 0;
        spawnService(s);
      }
      s.wanted = true;
      if (!(await waitHealthy(s, Date.now() + readyTimeoutMs))) {
        throw new Error(`${name} not ready within ${readyTimeoutMs / 1000} s at ${s.url}/health${s.lastExit ? ` (last exit ${s.lastExit})` : ''}`);
      }
    },
    pidOf: (name) => {
      const pid = stateOf(name).child?.pid;
      if (pid === undefined || !isRunning(stateOf(name).child)) throw new Error(`${name} is not running`);
      return pid;
    },
    stop,
  };
}

/**
 * Ctrl-C / SIGTERM of a launcher CLI: the first signal aborts `abort` and runs `stop` (a no-op
 * until there is something to stop); a second of the same kind stops listening, so Node's default
 * (exit) applies. Resolves with the exit code once `stop` settled. Keeps Node alive meanwhile (signal
 * handlers do not, and the children are unref'ed).
 *
 * @example
 * const finished = stopOnSignals('stack', abort, () => stack?.stop());
 */
export function stopOnSignals(label: string, abort: AbortController, stop: () => Promise<void> | undefined): { finished: Promise<number>; release(): void } {
  const keepAlive = setInterval(() => {}, 1 << 30);
  let done: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => {
    done = resolve;
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    if (abort.signal.aborted) {
      console.log(`[${label}] still stopping (a second signal of the same kind forces exit)`);
      process.removeListener(signal, onSignal);
      return;
    }
    console.log(`[${label}] ${signal} received`);
    abort.abort();
    const stopping = stop();
    if (stopping !== undefined) stopping.then(() => done(0), () => done(1));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { finished, release: () => clearInterval(keepAlive) };
}

/** Runs a launcher's `cli` when its file is the entry point, and exits with its code (1 on a throw, logged under `label`). */
export function runCli(meta: ImportMeta, label: string, cli: () => Promise<number>): void {
  if (!meta.main) return;
  cli().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`[${label}] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
}

/** `order=2,payment=3` → { order: 2, payment: 3 }. */
export function parseInstances(value: string | undefined): Record<string, number> | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const out: Record<string, number> = {};
  for (const part of value.split(',')) {
    const m = /^\s*([a-z]+)\s*=\s*(\d+)\s*$/.exec(part);
    if (m === null) throw new Error(`STACK_INSTANCES must look like order=2,payment=2, got "${value}"`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

async function cli(): Promise<number> {
  const { positionals } = parseArgs({ args: process.argv.slice(2), allowPositionals: true });
  const offset = Number(process.env.STACK_PORT_OFFSET ?? 0);
  if (!Number.isInteger(offset)) throw new Error(`STACK_PORT_OFFSET must be an integer, got "${process.env.STACK_PORT_OFFSET}"`);
  const abort = new AbortController();
  let stack: Stack | undefined;
  const { finished, release } = stopOnSignals('stack', abort, () => stack?.stop());
  try {
    stack = await startStack({
      services: positionals.length > 0 ? positionals : undefined,
      instances: parseInstances(process.env.STACK_INSTANCES),
      portOffset: offset,
      dbNamePrefix: process.env.STACK_DB_PREFIX || undefined,
      signal: abort.signal,
    });
  } catch (err) {
    release();
    if (abort.signal.aborted) return 0;
    console.error(`[stack] ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  if (abort.signal.aborted) {
    // The signal came after start-up finished but before we held the handle.
    await stack.stop();
    release();
    return 0;
  }
  for (const s of stack.services) console.log(`[stack]   ${s.name.padEnd(12)} ${s.url}`);
  console.log(`[stack] Kafka at ${stack.brokers}; Ctrl-C stops everything`);
  const code = await finished;
  release();
  return code;
}

runCli(import.meta, 'stack', cli);
