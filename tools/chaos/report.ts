// The chaos run's report: summary.json and a self-contained report.html (Chart.js and its annotation
// plugin inlined; the charts are drawn by the library from the data, no SVG written by hand).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { CheckResult } from '../invariants/check.ts';
import type { SagaRecord } from './load.ts';
import { latencyOverTime, quantile, throughputPerSecond, type InjectedFault } from './timeline.ts';
import type { ApiCheck } from './verify.ts';

export interface FaultResult extends InjectedFault {
  recoveryS: number | null;
}

export interface ChaosSummary {
  runId: string;
  seed: number;
  command: string;
  sagas: number;
  faults: number;
  faultKinds: Record<string, number>;
  violations: number;
  recovery_p50_s: number | null;
  recovery_max_s: number | null;
  /** Faults after which throughput was not back at 80% before the next fault (or the end). */
  unrecovered: number;
  /** p50 / max recovery per fault kind (null: not back at 80% before the next fault). */
  recoveryByKind: Record<string, { n: number; p50_s: number | null; max_s: number | null; unrecovered: number }>;
  outcomes: Record<string, Record<string, number>>;
  latencyMs: { p50: number; p99: number };
  durationS: number;
  invariants: { ok: boolean; violations: string[]; counts: Record<string, number> };
  api: ApiCheck[];
  report: string;
}

/** How a saga ended, as the client saw it. */
export function outcomeOf(r: SagaRecord): string {
  if (r.status === 0) return 'no answer';
  if (r.status === 201 || r.status === 200) return 'placed';
  if (r.status === 202) return 'accepted (202)';
  return r.code ?? `HTTP ${r.status}`;
}

export function summarize(o: {
  runId: string;
  seed: number;
  command: string;
  records: SagaRecord[];
  faults: FaultResult[];
  invariants: CheckResult;
  api: ApiCheck[];
  durationS: number;
  report: string;
}): ChaosSummary {
  const recovered = (xs: FaultResult[]) => xs.map((f) => f.recoveryS).filter((x): x is number => x !== null);
  /** Median to a tenth of a second (quantile works on whole numbers). */
  const median = (xs: number[]) => (xs.length > 0 ? quantile(xs.map((x) => x * 10), 0.5) / 10 : null);
  const all = recovered(o.faults);
  const unrecovered = o.faults.filter((f) => f.recoveryS === null).length;
  const byKind = Map.groupBy(o.faults, (f) => f.kind);
  const outcomes: Record<string, Record<string, number>> = {};
  for (const r of o.records) {
    const row = (outcomes[r.spec.kind] ??= {});
    const out = outcomeOf(r);
    row[out] = (row[out] ?? 0) + 1;
  }
  const latencies = o.records.filter((r) => r.status !== 0).map((r) => r.endMs - r.dueMs);
  const violations = o.invariants.violations.length + o.api.reduce((n, c) => n + c.violations.length, 0);
  return {
    runId: o.runId,
    seed: o.seed,
    command: o.command,
    sagas: o.records.length,
    faults: o.faults.length,
    faultKinds: Object.fromEntries([...byKind].map(([k, fs]) => [k, fs.length])),
    violations,
    recovery_p50_s: median(all),
    recovery_max_s: all.length > 0 ? Math.max(...all) : null,
    unrecovered,
    recoveryByKind: Object.fromEntries(
      [...byKind].map(([k, fs]) => {
        const xs = recovered(fs);
        const missing = fs.length - xs.length;
        return [k, { n: fs.length, p50_s: median(xs), max_s: xs.length === 0 ? null : Math.max(...xs), unrecovered: missing }];
      }),
    ),
    outcomes,
    latencyMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) },
    durationS: o.durationS,
    invariants: o.invariants,
    api: o.api,
    report: o.report,
  };
}

const require = createRequire(import.meta.url);
/** A browser build of a package, from the directory of its main file (its `exports` do not list the builds). */
const script = (pkg: string, file: string): string => readFileSync(join(dirname(require.resolve(pkg)), file), 'utf8').replaceAll('</script', '<\\/script');

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

/** Writes summary.json and report.html into `dir`. */
export function writeReport(dir: string, s: ChaosSummary, records: SagaRecord[], faults: FaultResult[]): void {
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(s, null, 2)}\n`);
  const endMs = Math.max(0, ...records.map((r) => r.endMs), ...faults.map((f) => f.doneMs));
  const data = {
    throughput: throughputPerSecond(records, endMs).map((y, x) => ({ x, y })),
    latency: latencyOverTime(records),
    faults: faults.map((f) => ({ atS: f.atMs / 1000, label: `${f.kind} ${f.target}` })),
  };
  const rows = (xs: string[][]) => xs.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n');
  const checks = [
    ...(s.invariants.violations.length === 0 ? [['I1–I6 (invariant checker, five databases)', 'holds', '']] : s.invariants.violations.map((v) => ['I1–I6 (invariant checker)', 'VIOLATED', v])),
    ...s.api.flatMap((c) => (c.violations.length === 0 ? [[c.question, 'holds', '']] : c.violations.slice(0, 50).map((v) => [c.question, 'VIOLATED', v]))),
  ];
  const outcomeKeys = [...new Set(Object.values(s.outcomes).flatMap((r) => Object.keys(r)))].sort();
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chaos run ${esc(s.runId)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #1b1f24; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0; } td, th { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left; vertical-align: top; }
.ok { color: #1a7f37; font-weight: 600; } .bad { color: #cf222e; font-weight: 600; }
code { background: #f6f8fa; padding: .1rem .3rem; } .chart { height: 320px; }
</style></head><body>
<h1>Chaos run ${esc(s.runId)}: <span class="${s.violations === 0 ? 'ok' : 'bad'}">${s.violations} violations</span></h1>
<p>${s.sagas} sagas, ${s.faults} faults in ${s.durationS} s; latency p50 ${s.latencyMs.p50} ms, p99 ${s.latencyMs.p99} ms (from each saga's due time).
Recovery (fault → throughput back at 80% of the 10 s before it): p50 ${s.recovery_p50_s ?? '–'} s, max ${s.recovery_max_s ?? '–'} s; ${s.unrecovered} not back before the next fault.</p>
<p>Seed <code>${s.seed}</code>. Reproduce: <code>${esc(s.command)}</code></p>
<h2>Throughput (answers per second), a line at each fault</h2><div class="chart"><canvas id="throughput"></canvas></div>
<h2>Latency percentiles over time (5 s buckets)</h2><div class="chart"><canvas id="latency"></canvas></div>
<h2>Recovery by fault kind</h2>
<table><tr><th>kind</th><th>faults</th><th>p50 s</th><th>max s</th><th>not recovered before the next fault</th></tr>
${rows(Object.entries(s.recoveryByKind).map(([k, v]) => [k, String(v.n), String(v.p50_s ?? '–'), String(v.max_s ?? '–'), String(v.unrecovered)]))}</table>
<h2>Faults</h2>
<table><tr><th>at s</th><th>kind</th><th>what was done</th><th>recovery s</th></tr>
${rows(faults.map((f) => [(f.atMs / 1000).toFixed(1), f.kind, f.what, f.recoveryS === null ? 'not before the next fault' : String(f.recoveryS)]))}</table>
<h2>Outcomes by kind of saga</h2>
<table><tr><th>saga kind</th>${outcomeKeys.map((k) => `<th>${esc(k)}</th>`).join('')}</tr>
${rows(Object.entries(s.outcomes).map(([kind, r]) => [kind, ...outcomeKeys.map((k) => String(r[k] ?? 0))]))}</table>
<h2>Invariants</h2>
<table><tr><th>question</th><th>result</th><th>detail</th></tr>${rows(checks)}</table>
<p>Counts: ${esc(JSON.stringify(s.invariants.counts))}</p>
<script>${script('chart.js', 'chart.umd.min.js')}</script>
<script>${script('chartjs-plugin-annotation', 'chartjs-plugin-annotation.min.js')}</script>
<script>
const data = ${JSON.stringify(data)};
const faultLines = Object.fromEntries(data.faults.map((f, i) => ['f' + i, { type: 'line', xMin: f.atS, xMax: f.atS, borderColor: '#cf222e', borderWidth: 1, borderDash: [4, 3], label: { display: true, content: f.label, position: 'start', rotation: -90, font: { size: 9 }, backgroundColor: 'rgba(207,34,46,.75)' } }]));
const common = { responsive: true, maintainAspectRatio: false, animation: false, parsing: false, scales: { x: { type: 'linear', title: { display: true, text: 'seconds since start' } } }, plugins: { annotation: { annotations: faultLines } } };
new Chart(document.getElementById('throughput'), { type: 'line', data: { datasets: [{ label: 'answers/s', data: data.throughput, borderColor: '#0969da', pointRadius: 0, borderWidth: 1.5 }] }, options: common });
new Chart(document.getElementById('latency'), { type: 'line', data: { datasets: [
  { label: 'p50 ms', data: data.latency.map((b) => ({ x: b.atS, y: b.p50 })), borderColor: '#1a7f37', pointRadius: 0 },
  { label: 'p99 ms', data: data.latency.map((b) => ({ x: b.atS, y: b.p99 })), borderColor: '#bc4c00', pointRadius: 0 } ] }, options: { ...common, scales: { ...common.scales, y: { type: 'logarithmic', title: { display: true, text: 'ms' } } } } });
</script>
</body></html>
`;
  writeFileSync(join(dir, 'report.html'), html);
}
