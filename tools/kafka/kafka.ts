// Single-node Apache Kafka (KRaft) started from Kafka's own jars on Maven Central (DESIGN §5).
//
//   node tools/kafka/kafka.ts start    daemonized; returns once the broker answers and topics exist
//   node tools/kafka/kafka.ts stop     SIGTERM, bounded wait, then SIGKILL
//   node tools/kafka/kafka.ts status   exit 0 = running and answering, 1 = not answering, 3 = not running
//
// Env: KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093), KAFKA_DATA_DIR (.data/kafka),
// KAFKA_BROKERS (use that cluster instead: only ensure the topics exist), KAFKA_TOPIC_REPLICAS (replicas
// of the topics created on KAFKA_BROKERS; default 1), KAFKA_START_TIMEOUT_MS (120000).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Admin } from '@platformatic/kafka';
import { allTopics } from '@saga/contracts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const KAFKA_VERSION = '4.2.0';
const LIBS_DIR = join(REPO_ROOT, '.cache/kafka/libs');
const POM = join(import.meta.dirname, 'pom.xml');
const HOST = '127.0.0.1';
const STOP_TIMEOUT_MS = 20_000;

export interface KafkaOptions {
  /** Data directory (config, pid file, server log, partitions). Default KAFKA_DATA_DIR or `.data/kafka`. */
  dataDir?: string;
  /** Broker port. Default KAFKA_PORT or 19092. */
  port?: number;
  /** KRaft controller port. Default KAFKA_CONTROLLER_PORT or 19093. */
  controllerPort?: number;
  /** Where Kafka's stdout/stderr go. Default `<dataDir>/server.log`. */
  logFile?: string;
  /**
   * Leave the broker running when this process exits (the CLI's `start`). Default false: the broker
   * is killed when this process exits, so a test run or the stack never leaves it behind.
   */
  detached?: boolean;
  /** Bound for "serving + topics created". Default KAFKA_START_TIMEOUT_MS or 120 s (a busy 2-core machine is slow). */
  startTimeoutMs?: number;
}

export interface RunningKafka {
  /** Bootstrap list, e.g. `127.0.0.1:19092`. */
  brokers: string;
  /** The broker process id, or undefined when KAFKA_BROKERS pointed at an external cluster. */
  pid: number | undefined;
  /** Stops the broker this call started (no-op for an external or already-running one). */
  stop(): Promise<void>;
}

interface ResolvedOptions {
  dataDir: string;
  port: number;
  controllerPort: number;
  logFile: string;
  detached: boolean;
  startTimeoutMs: number;
}

function intEnv(name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > max) throw new Error(`${name} must be an integer in 1..${max}, got "${raw}"`);
  return n;
}

function resolveOptions(opts: KafkaOptions = {}): ResolvedOptions {
  const dataDir = resolve(opts.dataDir ?? process.env.KAFKA_DATA_DIR ?? join(REPO_ROOT, '.data/kafka'));
  return {
    dataDir,
    port: opts.port ?? intEnv('KAFKA_PORT', 19092, 65535),
    controllerPort: opts.controllerPort ?? intEnv('KAFKA_CONTROLLER_PORT', 19093, 65535),
    logFile: resolve(opts.logFile ?? join(dataDir, 'server.log')),
    detached: opts.detached ?? false,
    startTimeoutMs: opts.startTimeoutMs ?? intEnv('KAFKA_START_TIMEOUT_MS', 120_000),
  };
}

function pidFile(dataDir: string): string {
  return join(dataDir, 'kafka.pid');
}

function parseBrokers(brokers: string): string[] {
  return brokers.split(',').map((b) => b.trim()).filter((b) => b !== '');
}

/** Fetches Kafka's jars once into the git-ignored `.cache/kafka/libs` (skipped when present). */
export function ensureKafkaLibs(): string {
  if (existsSync(join(LIBS_DIR, `kafka_2.13-${KAFKA_VERSION}.jar`))) return LIBS_DIR;
  // Resolve into a scratch dir and rename, so an interrupted download never looks like a cache.
  const scratch = `${LIBS_DIR}.tmp-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  console.error(`[kafka] resolving Apache Kafka ${KAFKA_VERSION} jars with Maven into ${LIBS_DIR} ...`);
  const mvn = spawnSync(
    'mvn',
    ['-B', '-q', '-f', POM, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${scratch}`],
    { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (mvn.error) throw new Error(`cannot run mvn (Maven is required to fetch Kafka): ${mvn.error.message}`);
  if (mvn.status !== 0) {
    rmSync(scratch, { recursive: true, force: true });
    // eslint-disable-next-line no-control-regex -- strip Maven's ANSI colours from the report
    const output = `${mvn.stdout}${mvn.stderr}`.replace(/\x1b\[[0-9;]*m/g, '').trim();
    throw new Error(`mvn failed with exit code ${mvn.status} while fetching Kafka jars:\n${output}`);
  }
  rmSync(LIBS_DIR, { recursive: true, force: true });
  mkdirSync(dirname(LIBS_DIR), { recursive: true });
  try {
    renameSync(scratch, LIBS_DIR);
  } catch (err) {
    // Another starter won the race: its cache is as good as ours.
    rmSync(scratch, { recursive: true, force: true });
    if (!existsSync(join(LIBS_DIR, `kafka_2.13-${KAFKA_VERSION}.jar`))) throw err;
  }
  return LIBS_DIR;
}

/** One KRaft node's place in its cluster (a single node is node 1 of a quorum of one). */
export interface KafkaNodeConfig {
  nodeId: number;
  port: number;
  controllerPort: number;
  dataDir: string;
  /** `id@host:port,...` of every controller; default this node alone. */
  voters?: string;
  /** Lines appended to the generated server.properties (a later key wins over an earlier one). */
  extraProperties?: readonly string[];
}

/** server.properties of one broker+controller node (DESIGN §5). */
export function serverProperties(n: KafkaNodeConfig): string {
  return [
    'process.roles=broker,controller',
    `node.id=${n.nodeId}`,
    `controller.quorum.voters=${n.voters ?? `${n.nodeId}@${HOST}:${n.controllerPort}`}`,
    `listeners=PLAINTEXT://${HOST}:${n.port},CONTROLLER://${HOST}:${n.controllerPort}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${n.port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${join(n.dataDir, 'kafka-logs')}`,
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'log.cleaner.dedupe.buffer.size=8388608',
    'auto.create.topics.enable=false',
    ...(n.extraProperties ?? []),
    '',
  ].join('\n');
}

/**
 * The serial collector instead of G1: on a 2-core machine G1's concurrent threads compete with the
 * services for CPU. Measured under the bench (ADR 10, fourth addendum): broker CPU per saga 1.20–1.26
 * → 1.03–1.16 ms, resident 385 → 290 MB; the heap is small (≤ 512 MB), so pauses stay short.
 */
const JVM_GC = '-XX:+UseSerialGC';

const LOG4J2_YAML = `Configuration:
  status: warn
  Appenders:
    Console:
      name: STDOUT
      target: SYSTEM_OUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
`;

/** The pid of the broker recorded in `dataDir`'s pid file, if that process is alive and is our Kafka. */
export function runningPid(dataDir?: string): number | undefined {
  const file = pidFile(resolveOptions({ dataDir }).dataDir);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  // Guard against pid reuse: only a java running kafka.Kafka with this data dir's config counts.
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('kafka.Kafka') || !cmdline.includes(file.replace(/kafka\.pid$/, 'server.properties'))) return undefined;
  } catch {
    // No /proc (not Linux): trust the pid file.
  }
  return pid;
}

/** Whether process `pid` exists (EPERM: it exists but is not ours). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

function logTail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log written)';
  }
}

/** One metadata round trip; throws when the cluster does not answer. */
async function probe(brokers: string, timeoutMs: number): Promise<void> {
  const admin = new Admin({ clientId: 'kafka-launcher-probe', bootstrapBrokers: parseBrokers(brokers), retries: 0, timeout: timeoutMs });
  try {
    await admin.metadata({ topics: [] });
  } finally {
    await admin.close().catch(() => {});
  }
}

/** True when a broker at `brokers` answers a metadata call within `timeoutMs`. */
export async function isKafkaReady(brokers: string, timeoutMs = 2000): Promise<boolean> {
  try {
    await probe(brokers, timeoutMs);
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits until `brokers` answers a metadata call. `failFast` is checked between attempts (e.g. "the
 * process died") and aborts the wait with its message.
 */
export async function waitForKafka(brokers: string, timeoutMs: number, failFast?: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const reason = failFast?.();
    if (reason !== undefined) throw new Error(reason);
    try {
      await probe(brokers, Math.min(3000, Math.max(500, deadline - Date.now())));
      return;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`Kafka at ${brokers} did not answer within ${timeoutMs} ms: ${(last as Error)?.message ?? last}`);
    }
    await delay(250);
  }
}

/**
 * Creates every topic of `wanted` (default `allTopics()`) that does not exist yet (existing ones are left as they are)
 * with `replicas` replicas each, and waits until each partition has a leader, so producers and
 * consumers can use them at once.
 */
export async function ensureTopics(brokers: string, timeoutMs = 30_000, replicas = 1, wanted = allTopics()): Promise<void> {
  const admin = new Admin({ clientId: 'kafka-launcher-admin', bootstrapBrokers: parseBrokers(brokers) });
  try {
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !existing.has(t.name));
    const byPartitions = Map.groupBy(missing, (t) => t.partitions);
    for (const [partitions, topics] of byPartitions) {
      try {
        await admin.createTopics({ topics: topics.map((t) => t.name), partitions, replicas });
      } catch (err) {
        // Someone else (a parallel starter) may have created them meanwhile: fine if they now exist.
        const now = new Set(await admin.listTopics());
        if (!topics.every((t) => now.has(t.name))) throw err;
      }
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const meta = await admin.metadata({ topics: wanted.map((t) => t.name), forceUpdate: true });
      const pending = wanted.filter((t) => {
        const m = meta.topics.get(t.name);
        return !m || m.partitionsCount < t.partitions || m.partitions.some((p) => p === undefined || p.leader < 0);
      });
      if (pending.length === 0) return;
      if (Date.now() >= deadline) throw new Error(`topics without leaders after ${timeoutMs} ms: ${pending.map((t) => t.name).join(', ')}`);
      await delay(100);
    }
  } finally {
    await admin.close().catch(() => {});
  }
}

/**
 * Starts a single-node Kafka (or, with KAFKA_BROKERS set, uses that cluster) and ensures every topic
 * exists. Resolves once a metadata call succeeds and the topics have leaders.
 *
 * @example
 * const kafka = await startKafka({ dataDir: '.data/test-kafka', port: 19192, controllerPort: 19193 });
 * try { ... use kafka.brokers ... } finally { await kafka.stop(); }
 */
export async function startKafka(opts: KafkaOptions = {}): Promise<RunningKafka> {
  const o = resolveOptions(opts);
  const started = Date.now();
  const external = process.env.KAFKA_BROKERS;
  if (external !== undefined && external.trim() !== '') {
    await waitForKafka(external, o.startTimeoutMs);
    await ensureTopics(external, 30_000, intEnv('KAFKA_TOPIC_REPLICAS', 1, 16));
    return { brokers: external, pid: undefined, stop: async () => {} };
  }
  const brokers = `${HOST}:${o.port}`;
  const already = runningPid(o.dataDir);
  if (already !== undefined) {
    // A broker of this data dir is already up (e.g. `kafka:start` ran before): reuse, do not own it.
    await waitForKafka(brokers, o.startTimeoutMs, () => (isAlive(already) ? undefined : `Kafka (pid ${already}) exited\n${logTail(o.logFile)}`));
    await ensureTopics(brokers);
    return { brokers, pid: already, stop: async () => {} };
  }
  for (const port of [o.port, o.controllerPort]) {
    if (await portInUse(port)) {
      throw new Error(`port ${HOST}:${port} is already in use by another process (not a Kafka of ${o.dataDir}); set KAFKA_PORT / KAFKA_CONTROLLER_PORT or KAFKA_BROKERS`);
    }
  }

  const node = launchKafkaNode({
    config: { nodeId: 1, port: o.port, controllerPort: o.controllerPort, dataDir: o.dataDir },
    logFile: o.logFile,
    detached: o.detached,
  });
  const pid = await node.pid;
  if (pid === undefined) throw new Error(node.exitReason() ?? 'could not start java for Kafka');
  const exited = (): string | undefined => node.exitReason();

  const handle: RunningKafka = { brokers, pid, stop: () => node.stop() };
  try {
    const deadline = started + o.startTimeoutMs;
    await waitForKafka(brokers, Math.max(1000, deadline - Date.now()), exited);
    await ensureTopics(brokers, Math.max(5000, deadline - Date.now()));
  } catch (err) {
    await handle.stop();
    const tail = exited() === undefined ? `\nlast lines of ${o.logFile}:\n${logTail(o.logFile)}` : '';
    throw new Error(`${(err as Error).message}${tail}`, { cause: err });
  }
  return handle;
}

export interface LaunchNodeOptions {
  config: KafkaNodeConfig;
  /** Where Kafka's stdout/stderr go. */
  logFile: string;
  /** Survive this process (daemon) instead of dying with it. */
  detached: boolean;
  /** Cluster id to format a fresh data dir with; default the one kept in `<dataDir>/cluster.id`, else a new one. */
  clusterId?: string;
  /** JVM heap flags. Default `-Xms256m -Xmx512m`. The collector is always the serial one (see JVM_GC). */
  heap?: readonly string[];
}

export interface LaunchedNode {
  /** The java pid (undefined when java could not start). */
  pid: Promise<number | undefined>;
  /** Why the process exited, once it has (undefined while it runs). */
  exitReason(): string | undefined;
  /** Resolves with the exit reason when the process exits (any way). */
  exited: Promise<string>;
  /** SIGTERM, bounded wait, then SIGKILL. */
  stop(): Promise<void>;
}

/**
 * Writes a node's config, formats its storage (once) and starts its java process; does not wait for
 * it to serve. Attached (not `detached`), the broker dies with this process, even by SIGKILL.
 */
export function launchKafkaNode(l: LaunchNodeOptions): LaunchedNode {
  const { config: n } = l;
  const libs = ensureKafkaLibs();
  const classpath = `${libs}/*`;
  mkdirSync(join(n.dataDir, 'kafka-logs'), { recursive: true });
  const props = join(n.dataDir, 'server.properties');
  const log4j = join(n.dataDir, 'log4j2.yaml');
  writeFileSync(props, serverProperties(n));
  writeFileSync(log4j, LOG4J2_YAML);

  // Keep one cluster id per data dir; `--ignore-formatted` makes re-formatting a no-op anyway.
  const idFile = join(n.dataDir, 'cluster.id');
  const clusterId = existsSync(idFile) ? readFileSync(idFile, 'utf8').trim() : (l.clusterId ?? randomBytes(16).toString('base64url'));
  writeFileSync(idFile, `${clusterId}\n`);
  const format = spawnSync(
    'java',
    ['-cp', classpath, `-Dlog4j2.configurationFile=${log4j}`, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', props, '--ignore-formatted'],
    { encoding: 'utf8' },
  );
  if (format.error) throw new Error(`cannot run java (JDK 17+ is required for Kafka): ${format.error.message}`);
  if (format.status !== 0) throw new Error(`Kafka StorageTool format failed (exit ${format.status}):\n${format.stdout}${format.stderr}`);

  mkdirSync(dirname(l.logFile), { recursive: true });
  const javaArgs = [...(l.heap ?? ['-Xms256m', '-Xmx512m']), JVM_GC, '-cp', classpath, `-Dlog4j2.configurationFile=${log4j}`, 'kafka.Kafka', props];
  const logFd = openSync(l.logFile, 'a');
  let child: ChildProcess;
  try {
    // Own process group: a Ctrl-C in the terminal reaches our supervisor, which stops Kafka last.
    child = l.detached
      ? spawn('java', javaArgs, { stdio: ['ignore', logFd, logFd], detached: true })
      : spawn('sh', ['-c', WATCHDOG_SH, 'kafka-watchdog', ...javaArgs], { stdio: ['pipe', 'pipe', logFd], detached: true });
  } finally {
    closeSync(logFd);
  }
  let exited: string | undefined;
  let onExited: (reason: string) => void = () => {};
  const exitedPromise = new Promise<string>((done) => {
    onExited = done;
  });
  child.once('exit', (code, signal) => {
    process.removeListener('exit', killOnExit);
    exited = `Kafka node ${n.nodeId} exited (code ${code}, signal ${signal}); last lines of ${l.logFile}:\n${logTail(l.logFile)}`;
    onExited(exited);
  });
  child.once('error', (err) => {
    exited = `cannot run java (JDK 17+ is required for Kafka): ${err.message}`;
    onExited(exited);
  });
  const pid = (l.detached ? Promise.resolve(child.pid) : watchdogJavaPid(child)).then((p) => {
    if (p === undefined) return undefined;
    writeFileSync(pidFile(n.dataDir), `${p}\n`);
    if (!l.detached) process.once('exit', killOnExit);
    return p;
  });
  let javaPid: number | undefined;
  void pid.then((p) => {
    javaPid = p;
  });
  const killOnExit = (): void => {
    try {
      if (javaPid !== undefined) process.kill(javaPid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  // Never keep this process alive just for the broker (an attached broker dies with us instead), but
  // until the watchdog reported java's pid, this process must wait for it.
  const unref = (): void => {
    child.unref();
    for (const stream of [child.stdin, child.stdout]) (stream as { unref?: () => void } | null)?.unref?.();
  };
  void pid.then(unref, unref);
  return {
    pid,
    exitReason: () => exited,
    exited: exitedPromise,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      const p = await pid;
      if (p !== undefined) await stopPid(p, n.dataDir);
    },
  };
}

// Attached mode runs java under this tiny shell: it reports java's pid, exits with java's status,
// and when our end of its stdin closes (this process died, even by SIGKILL) it stops java, so a
// killed test run or supervisor never leaves a broker behind.
const WATCHDOG_SH = `
exec 3<&0
java "$@" </dev/null 1>&2 3<&- &
pid=$!
echo "$pid"
( read -r _ <&3; kill -TERM "$pid" 2>/dev/null; i=0
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$pid" 2>/dev/null ) </dev/null >/dev/null 2>&1 &
watcher=$!
exec 3<&-
wait "$pid"
code=$?
kill "$watcher" 2>/dev/null
exit "$code"
`;

/** Reads the java pid the watchdog shell prints first. */
function watchdogJavaPid(child: ChildProcess): Promise<number | undefined> {
  return new Promise((done) => {
    let buffer = '';
    const finish = (pid: number | undefined): void => {
      child.stdout?.removeAllListeners('data');
      child.removeListener('exit', onExit);
      done(pid);
    };
    const onExit = (): void => finish(undefined);
    child.once('exit', onExit);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffer += chunk;
      const line = buffer.split('\n')[0];
      if (buffer.includes('\n')) finish(Number.isInteger(Number(line)) && Number(line) > 0 ? Number(line) : undefined);
    });
  });
}

async function stopPid(pid: number, dataDir: string, timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await delay(100);
  if (isAlive(pid)) {
    console.error(`[kafka] pid ${pid} did not stop within ${timeoutMs} ms, sending SIGKILL`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    while (isAlive(pid)) await delay(50);
  }
  const file = pidFile(dataDir);
  if (existsSync(file) && readFileSync(file, 'utf8').trim() === String(pid)) rmSync(file, { force: true });
}

/**
 * Stops the broker recorded in the data dir's pid file (SIGTERM, bounded wait, then SIGKILL).
 * Resolves to false when none was running.
 *
 * @example
 * await stopKafka({ dataDir: '.data/kafka' });
 */
export async function stopKafka(opts: { dataDir?: string; timeoutMs?: number } = {}): Promise<boolean> {
  const { dataDir } = resolveOptions({ dataDir: opts.dataDir });
  const pid = runningPid(dataDir);
  if (pid === undefined) {
    rmSync(pidFile(dataDir), { force: true });
    return false;
  }
  await stopPid(pid, dataDir, opts.timeoutMs);
  return true;
}

async function cli(command: string | undefined): Promise<number> {
  const o = resolveOptions({ detached: true });
  const brokers = process.env.KAFKA_BROKERS?.trim() || `${HOST}:${o.port}`;
  switch (command) {
    case 'start': {
      const t0 = Date.now();
      const before = process.env.KAFKA_BROKERS ? undefined : runningPid(o.dataDir);
      const kafka = await startKafka({ detached: true });
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      if (kafka.pid === undefined) console.log(`[kafka] using KAFKA_BROKERS=${kafka.brokers}; ${allTopics().length} topics ensured in ${secs} s`);
      else if (before !== undefined) console.log(`[kafka] already running at ${kafka.brokers} (pid ${kafka.pid}, data ${o.dataDir}); topics ensured`);
      else console.log(`[kafka] ready at ${kafka.brokers} (pid ${kafka.pid}, data ${o.dataDir}, log ${o.logFile}) in ${secs} s; ${allTopics().length} topics ensured`);
      return 0;
    }
    case 'stop': {
      const pid = runningPid(o.dataDir);
      const stopped = await stopKafka({ dataDir: o.dataDir });
      console.log(stopped ? `[kafka] stopped (pid ${pid})` : `[kafka] not running (data ${o.dataDir})`);
      return 0;
    }
    case 'status': {
      const pid = process.env.KAFKA_BROKERS ? undefined : runningPid(o.dataDir);
      if (!process.env.KAFKA_BROKERS && pid === undefined) {
        console.log(`[kafka] not running (data ${o.dataDir})`);
        return 3;
      }
      const ready = await isKafkaReady(brokers, 3000);
      console.log(`[kafka] ${pid !== undefined ? `pid ${pid}, ` : ''}${brokers} ${ready ? 'is answering' : 'is NOT answering'}`);
      return ready ? 0 : 1;
    }
    default:
      console.error('usage: node tools/kafka/kafka.ts start|stop|status');
      return 2;
  }
}

if (import.meta.main) {
  cli(process.argv[2]).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`[kafka] ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
