// `npm test` (after `npm run build`): unit specs, then integration + e2e tests against a private Kafka.
//
//   node tools/test/run.ts [--only unit|deploy|int|e2e[,..]] [--name <test name pattern>] [file patterns...]
//
// File patterns select test files by substring or glob; a source path works too
// (`packages/messaging/src/outbox/outbox.int-spec.ts` selects its compiled dist file).
// Env: KAFKA_BROKERS (use that cluster, start none), DATABASE_URL (postgres://postgres@127.0.0.1:5432),
// TEST_TIMEOUT_MS (per test; 60 s unit, 300 s integration/e2e).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, globSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, matchesGlob, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, isAlive, runningPid, startKafka, stopKafka } from '../kafka/kafka.ts';
import type { RunningKafka } from '../kafka/kafka.ts';

const PHASES = ['unit', 'deploy', 'int', 'e2e'] as const;
type Phase = (typeof PHASES)[number];

const TEST_KAFKA_DIR = join(REPO_ROOT, '.data/test-kafka');
const TEST_KAFKA_PORT = 19192;
const TEST_KAFKA_CONTROLLER_PORT = 19193;
const OWNER_FILE = `${TEST_KAFKA_DIR}.owner`;

const GLOBS: Record<Phase, string[]> = {
  unit: ['packages/*/dist/**/*.spec.js', 'apps/*/dist/**/*.spec.js'],
  // Validation of deploy/ with real tools (compose, kustomize, linters): no Kafka, no database.
  deploy: ['tests/deploy/**/*.deploy-spec.ts'],
  int: ['packages/*/dist/**/*.int-spec.js', 'apps/*/dist/**/*.int-spec.js'],
  e2e: ['tests/**/*.e2e-spec.ts'],
};

interface Totals {
  tests: number;
  pass: number;
  fail: number;
  cancelled: number;
  skipped: number;
  todo: number;
}

function log(message: string): void {
  console.log(`[test] ${message}`);
}

/** dist/x.spec.js whose src/x.spec.ts is gone (renamed or deleted) is a stale build output: skip it. */
function hasSource(file: string): boolean {
  const m = /^((?:packages|apps)\/[^/]+)\/dist\/(.+)\.js$/.exec(file);
  return m === null || existsSync(join(REPO_ROOT, m[1], 'src', `${m[2]}.ts`));
}

/** A source path pattern (`.../src/foo.spec.ts`) also selects its compiled file. */
function patternVariants(pattern: string): string[] {
  const p = pattern.replace(/^\.\//, '');
  const compiled = p.replace(/^((?:packages|apps)\/[^/]+)\/src\//, '$1/dist/').replace(/\.ts$/, '.js');
  return compiled === p ? [p] : [p, compiled];
}

function matches(file: string, patterns: string[]): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((pattern) =>
    patternVariants(pattern).some((p) => (/[*?[{]/.test(p) ? matchesGlob(file, p) : file.includes(p))),
  );
}

function findFiles(phase: Phase, patterns: string[]): string[] {
  const files = GLOBS[phase].flatMap((g) => globSync(g, { cwd: REPO_ROOT, exclude: (f) => f.includes('node_modules') }));
  return [...new Set(files)].filter((f) => hasSource(f) && matches(f, patterns)).sort();
}

function parseTapTotals(file: string): Totals {
  const totals: Totals = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
  if (!existsSync(file)) return totals;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$/.exec(line);
    if (m) totals[m[1] as keyof Totals] += Number(m[2]);
  }
  return totals;
}

let current: ChildProcess | undefined;

/** Runs `node --test` on `files`; spec output on stdout (with node's summary lines), TAP into `tapFile` for totals. */
function runNodeTest(files: string[], extraArgs: string[], env: NodeJS.ProcessEnv, tapFile: string): Promise<number> {
  const args = [
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...extraArgs,
    ...files,
  ];
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
    current = child;
    child.once('exit', (code, signal) => {
      current = undefined;
      done(code ?? (signal ? 1 : 0));
    });
    child.once('error', (err) => {
      current = undefined;
      console.error(`[test] cannot run node --test: ${err.message}`);
      done(1);
    });
  });
}


/** Private broker for this run: a fresh data dir, ports apart from the demo stack's 19092. */
async function startTestKafka(): Promise<RunningKafka> {
  // Another `npm test` in this checkout owns the private broker: never pull it from under that run.
  if (existsSync(OWNER_FILE)) {
    const owner = Number(readFileSync(OWNER_FILE, 'utf8').trim());
    if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
      throw new Error(
        `another test run (pid ${owner}) is using the test Kafka on ${TEST_KAFKA_PORT}; wait for it, or run against the shared broker with KAFKA_BROKERS=127.0.0.1:19092`,
      );
    }
  }
  mkdirSync(join(REPO_ROOT, '.data'), { recursive: true });
  writeFileSync(OWNER_FILE, `${process.pid}\n`);
  // A broker left behind by a killed run: stop it before wiping its data.
  if (runningPid(TEST_KAFKA_DIR) !== undefined) {
    log('stopping a test Kafka left behind by an earlier run');
    await stopKafka({ dataDir: TEST_KAFKA_DIR });
  }
  rmSync(TEST_KAFKA_DIR, { recursive: true, force: true });
  return startKafka({ dataDir: TEST_KAFKA_DIR, port: TEST_KAFKA_PORT, controllerPort: TEST_KAFKA_CONTROLLER_PORT });
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      only: { type: 'string' },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: node tools/test/run.ts [--only unit|deploy|int|e2e[,..]] [--name <test name pattern>] [file patterns...]');
    return 0;
  }
  const only = values.only === undefined ? [...PHASES] : values.only.split(',').map((s) => s.trim());
  const unknown = only.filter((p) => !(PHASES as readonly string[]).includes(p));
  if (unknown.length > 0) {
    console.error(`[test] --only takes unit, deploy, int or e2e (comma separated), got: ${unknown.join(', ')}`);
    return 2;
  }
  const selected = new Set(only as Phase[]);
  const files: Record<Phase, string[]> = {
    unit: selected.has('unit') ? findFiles('unit', positionals) : [],
    deploy: selected.has('deploy') ? findFiles('deploy', positionals) : [],
    int: selected.has('int') ? findFiles('int', positionals) : [],
    e2e: selected.has('e2e') ? findFiles('e2e', positionals) : [],
  };
  const nameArgs = values.name === undefined ? [] : [`--test-name-pattern=${values.name}`];
  const timeout = (fallback: number): string => `--test-timeout=${process.env.TEST_TIMEOUT_MS ?? fallback}`;
  const tapDir = mkdtempSync(join(tmpdir(), 'saga-test-'));
  const results: { phase: string; files: number; code: number; totals: Totals }[] = [];
  const started = Date.now();
  let kafka: RunningKafka | undefined;

  const stopEverything = async (): Promise<void> => {
    current?.kill('SIGTERM');
    if (kafka !== undefined) {
      const k = kafka;
      kafka = undefined;
      log('stopping test Kafka');
      await k.stop().catch((err: unknown) => console.error(`[test] stopping Kafka failed: ${String(err)}`));
    }
    if (existsSync(OWNER_FILE) && readFileSync(OWNER_FILE, 'utf8').trim() === String(process.pid)) rmSync(OWNER_FILE, { force: true });
    rmSync(tapDir, { recursive: true, force: true });
  };
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    void stopEverything().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    if (selected.has('unit')) {
      if (files.unit.length === 0) log('unit: no test files');
      else {
        log(`unit: ${files.unit.length} files`);
        const tap = join(tapDir, 'unit.tap');
        const code = await runNodeTest(files.unit, [...nameArgs, timeout(60_000)], process.env, tap);
        results.push({ phase: 'unit', files: files.unit.length, code, totals: parseTapTotals(tap) });
      }
    }
    if (selected.has('deploy')) {
      if (files.deploy.length === 0) log('deploy: no test files');
      else {
        // May install Debian packages on first use (apt): the slow timeout.
        log(`deploy: ${files.deploy.length} files`);
        const tap = join(tapDir, 'deploy.tap');
        const code = await runNodeTest(files.deploy, [...nameArgs, timeout(300_000)], process.env, tap);
        results.push({ phase: 'deploy', files: files.deploy.length, code, totals: parseTapTotals(tap) });
      }
    }
    const slow = [...files.int, ...files.e2e];
    const slowPhases = (['int', 'e2e'] as const).filter((p) => selected.has(p)).join('+');
    if (slowPhases !== '' && slow.length === 0) log(`${slowPhases}: no test files`);
    if (slow.length > 0) {
      const t0 = Date.now();
      const external = process.env.KAFKA_BROKERS?.trim();
      if (external) log(`using Kafka at KAFKA_BROKERS=${external}`);
      else log(`starting a private Kafka on 127.0.0.1:${TEST_KAFKA_PORT} (data ${relative(REPO_ROOT, TEST_KAFKA_DIR)})`);
      kafka = await (external ? startKafka() : startTestKafka());
      if (stopping) return 1;
      log(`Kafka ready at ${kafka.brokers} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const env = {
        ...process.env,
        KAFKA_BROKERS: kafka.brokers,
        DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432',
      };
      log(`${slowPhases}: ${slow.length} files (one at a time)`);
      const tap = join(tapDir, 'slow.tap');
      const code = await runNodeTest(slow, ['--test-concurrency=1', ...nameArgs, timeout(300_000)], env, tap);
      results.push({ phase: slowPhases, files: slow.length, code, totals: parseTapTotals(tap) });
    }
  } finally {
    if (!stopping) await stopEverything();
  }

  if (stopping) return 130; // the signal handler reports and exits
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const sum = results.reduce((a, r) => ({ tests: a.tests + r.totals.tests, pass: a.pass + r.totals.pass, fail: a.fail + r.totals.fail }), { tests: 0, pass: 0, fail: 0 });
  const failed = results.filter((r) => r.code !== 0);
  for (const r of results) {
    const t = r.totals;
    log(`${r.phase}: ${r.code === 0 ? 'ok' : `FAILED (exit ${r.code})`}: ${r.files} files, tests ${t.tests}, pass ${t.pass}, fail ${t.fail}, cancelled ${t.cancelled}, skipped ${t.skipped}, todo ${t.todo}`);
  }
  const count = (k: keyof Totals) => results.reduce((n, r) => n + r.totals[k], 0);
  // A run that tested nothing, or skipped something, did not pass: a pattern matching no file, a
  // describe whose tests never registered, a forgotten `skip` or `todo` all fail it. (With --name,
  // the tests it leaves out are reported as skipped: those are expected.)
  const problems: string[] = [];
  if (sum.tests === 0) problems.push(results.length === 0 ? 'no test files selected' : 'no tests ran');
  if (values.name === undefined && count('skipped') + count('todo') > 0) problems.push(`${count('skipped')} skipped and ${count('todo')} todo tests`);
  for (const p of problems) log(`FAILED: ${p}`);
  const ok = failed.length === 0 && problems.length === 0;
  log(`total: tests ${sum.tests}, pass ${sum.pass}, fail ${sum.fail} in ${secs} s: ${ok ? 'PASSED' : 'FAILED'}`);
  // The plain closing line CI reads, whatever runner produced the counts.
  console.log(`${count('pass')} passed, ${count('fail') + count('cancelled')} failed, ${count('skipped')} skipped`);
  return ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`[test] ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
