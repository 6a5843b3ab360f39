/**
 * Runs `npm start`'s entry (tools/embedded/start.ts) as its own child process for one end-to-end test
 * file: a random port offset, a temporary data dir, logs in .data/e2e-logs/<prefix>.log. It can be
 * killed (kill -9 included) and started again on the same data; the invariant checker reads the
 * PGlite data once the process stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../tools/kafka/kafka.ts';
import { checkEmbeddedInvariants, type CheckResult } from '../../tools/invariants/check.ts';
import { SERVICES } from '../../tools/stack/start.ts';
import { eventually, get } from './http.ts';
import type { SagaStack } from './support.ts';

const ENTRY = join(REPO_ROOT, 'tools/embedded/start.ts');
const TERMINAL_SAGAS = new Set(['COMPLETED', 'COMPENSATED', 'COMPENSATION_FAILED']);

export interface EmbeddedTestStack extends SagaStack {
  dataDir: string;
  logFile: string;
  /** Signals the process and waits for its exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the process (again) on the same data and waits until the gateway is ready; resolves with the time it took. */
  start(): Promise<number>;
  /** Resident memory of the running process, in MB (from /proc). */
  rssMb(): number;
}

export async function startEmbeddedTestStack(name: string, env: Record<string, string> = {}): Promise<EmbeddedTestStack> {
  const prefix = `e2e_embedded_${name}_${Date.now().toString(36)}`;
  const portOffset = 14_000 + Math.floor(Math.random() * 400) * 10;
  const dataDir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  mkdirSync(join(REPO_ROOT, '.data/e2e-logs'), { recursive: true });
  const logFile = join(REPO_ROOT, '.data/e2e-logs', `${prefix}.log`);
  const log = createWriteStream(logFile);
  const url = (service: string): string => {
    const spec = SERVICES.find((s) => s.name === service);
    if (!spec) throw new Error(`unknown service ${service}`);
    return `http://127.0.0.1:${spec.port + portOffset}`;
  };
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<number> => {
    const t0 = Date.now();
    const c = spawn(process.execPath, [ENTRY], {
      cwd: REPO_ROOT,
      env: { ...process.env, STACK_PORT_OFFSET: String(portOffset), EMBEDDED_DATA_DIR: dataDir, STACK_LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    c.stdout?.pipe(log, { end: false });
    c.stderr?.pipe(log, { end: false });
    // 'close' (not 'exit'): the output pipes are drained too, so nothing is written to the log after it ended.
    exited = new Promise((done) => c.once('close', () => done()));
    let gone = false;
    void exited.then(() => (gone = true));
    await eventually(async () => {
      if (gone) throw new Error(`the embedded process exited during start-up (see ${logFile})`);
      return (await get(`${url('gateway')}/health`)).status === 200;
    }, 60_000, 200);
    return Date.now() - t0;
  };
  const kill = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill(signal);
    await exited;
  };
  const check = async (): Promise<CheckResult> => {
    await kill('SIGTERM');
    try {
      return await checkEmbeddedInvariants(dataDir);
    } finally {
      await start();
    }
  };

  await start();
  return {
    url,
    dataDir,
    logFile,
    kill,
    start,
    rssMb: () => {
      const pid = child?.pid;
      if (pid === undefined) return NaN;
      return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024);
    },
    check,
    async settleAndCheck(timeoutMs = 60_000) {
      // The data can be read only once the process stopped: wait until no saga runs, then check.
      await eventually(async () => {
        for (const status of ['RUNNING', 'COMPENSATING']) {
          const res = await get(`${url('orchestrator')}/api/sagas?status=${status}&limit=1`);
          if (res.status !== 200 || res.body.items.length > 0) return false;
        }
        return true;
      }, timeoutMs, 250);
      return check();
    },
    async stop() {
      await kill('SIGTERM');
      log.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
