/**
 * The short profile of `npm run chaos` (its own PostgreSQL cluster, Kafka broker and stack on ports of
 * its own): 800 sagas under 8 seeded faults, one of every kind, ending with no violation,
 * the report written, and its last line the summary as JSON.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../tools/kafka/kafka.ts';
import { FAULT_KINDS } from '../../tools/chaos/faults.ts';

const SAGAS = 800;
const FAULTS = 8;
const SEED = 20261205;

describe('npm run chaos (short profile, e2e)', () => {
  it(`${SAGAS} sagas under ${FAULTS} faults of every kind: 0 violations, a report, the summary as the last line`, async (t) => {
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'tools/chaos/chaos.ts'), '--sagas', String(SAGAS), '--faults', String(FAULTS), '--seed', String(SEED), '--gap-s', '5', '--port-base', '21000'],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const lines = out.trim().split('\n');
    t.diagnostic(err.split('\n').filter((l) => l.startsWith('[chaos] recovery') || l.includes('VIOLATION')).join('\n'));
    let summary: { sagas: number; faults: number; violations: number; recovery_p50_s: number | null; recovery_max_s: number | null; report: string };
    try {
      summary = JSON.parse(lines[lines.length - 1]);
    } catch {
      assert.fail(`exit ${code}, no summary line; its output ends:\n${err.slice(-4000)}`);
    }
    t.diagnostic(JSON.stringify(summary));
    assert.equal(code, 0, err.slice(-4000));
    assert.deepEqual([summary.sagas, summary.faults, summary.violations], [SAGAS, FAULTS, 0]);
    const report = join(REPO_ROOT, summary.report);
    assert.ok(existsSync(report), report);
    assert.match(readFileSync(report, 'utf8'), /new Chart\(document\.getElementById\('throughput'\)/);
    const full = JSON.parse(readFileSync(join(report, '../summary.json'), 'utf8')) as { faultKinds: Record<string, number>; seed: number; command: string };
    assert.deepEqual(Object.keys(full.faultKinds).sort(), [...FAULT_KINDS].sort(), 'every fault kind injected');
    assert.equal(full.seed, SEED);
    assert.match(full.command, new RegExp(`--seed ${SEED}`));
    assert.doesNotMatch(err, /FAILED to inject/);
  });
});
