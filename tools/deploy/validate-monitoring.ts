// Validates the monitoring files of deploy/: Prometheus's config with Debian's promtool, that it
// scrapes every service, and the Grafana dashboards: JSON, the provisioned datasource, and every
// PromQL expression parsed by promtool (as a rule file).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { promtoolCommand, run } from './deploy-tools.ts';
import { APP_SERVICES } from './service-env.ts';

type Doc = Record<string, any>;

export interface MonitoringFiles {
  /** deploy/prometheus/prometheus.yml */
  prometheusConfig: string;
  /** deploy/grafana/provisioning/datasources (YAML files) */
  datasourcesDir: string;
  /** deploy/grafana/dashboards (JSON files) */
  dashboardsDir: string;
}

function prometheusProblems(file: string): string[] {
  const promtool = promtoolCommand();
  const checked = run(promtool, ['check', 'config', '--syntax-only', file]);
  if (checked.status !== 0) return [`promtool check config: ${(checked.stderr || checked.stdout).trim()}`];
  const problems: string[] = [];
  const config = parse(readFileSync(file, 'utf8')) as Doc;
  const jobs = (config.scrape_configs ?? []) as Doc[];
  for (const { name, port } of APP_SERVICES) {
    const job = jobs.find((j) => j.job_name === name);
    const targets = [
      ...(job?.dns_sd_configs ?? []).flatMap((d: Doc) => (d.names ?? []).map((n: string) => `${n}:${d.port}`)),
      ...(job?.static_configs ?? []).flatMap((s: Doc) => s.targets ?? []),
    ];
    if (!targets.includes(`${name}:${port}`)) problems.push(`prometheus: no scrape job for ${name}:${port}`);
    if (job && (job.metrics_path ?? '/metrics') !== '/metrics') problems.push(`prometheus: job ${name} must scrape /metrics`);
  }
  return problems;
}

/** Every PromQL expression of a dashboard's panels (rows included). */
function expressions(dashboard: Doc): { panel: string; expr: string; uid: unknown }[] {
  const panels = (dashboard.panels ?? []).flatMap((p: Doc) => [p, ...(p.panels ?? [])]) as Doc[];
  return panels.flatMap((p) => (p.targets ?? []).map((t: Doc) => ({ panel: String(p.title), expr: String(t.expr ?? ''), uid: t.datasource?.uid ?? p.datasource?.uid })));
}

function dashboardProblems(datasourcesDir: string, dashboardsDir: string): string[] {
  const problems: string[] = [];
  const uids = new Set<unknown>();
  for (const f of readdirSync(datasourcesDir).filter((f) => /\.ya?ml$/.test(f))) {
    for (const ds of ((parse(readFileSync(join(datasourcesDir, f), 'utf8')) as Doc)?.datasources ?? []) as Doc[]) uids.add(ds.uid);
  }
  const files = readdirSync(dashboardsDir).filter((f) => f.endsWith('.json'));
  if (files.length === 0) problems.push(`${dashboardsDir}: no dashboard JSON file`);
  const rules: Doc[] = [];
  for (const f of files) {
    let dashboard: Doc;
    try {
      dashboard = JSON.parse(readFileSync(join(dashboardsDir, f), 'utf8')) as Doc;
    } catch (err) {
      problems.push(`${f}: not JSON: ${(err as Error).message}`);
      continue;
    }
    if (typeof dashboard.uid !== 'string' || typeof dashboard.title !== 'string') problems.push(`${f}: uid and title are required`);
    const exprs = expressions(dashboard);
    if (exprs.length === 0) problems.push(`${f}: no panel queries`);
    exprs.forEach(({ panel, expr, uid }, i) => {
      if (!uids.has(uid)) problems.push(`${f}: panel "${panel}" uses datasource ${JSON.stringify(uid)}, not a provisioned one`);
      rules.push({ record: `dashboard:check:${i}`, expr });
    });
  }
  if (rules.length > 0) {
    // promtool parses rule expressions: a dashboard query that is not valid PromQL fails here.
    const dir = mkdtempSync(join(tmpdir(), 'deploy-promql-'));
    try {
      const file = join(dir, 'dashboard-queries.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard-queries', rules }] }));
      const checked = run(promtoolCommand(), ['check', 'rules', file]);
      if (checked.status !== 0) problems.push(`dashboard queries (promtool check rules): ${(checked.stderr || checked.stdout).trim()}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return problems;
}

/**
 * Problems of the monitoring files (empty = valid). Throws only when promtool cannot be had.
 *
 * @example
 * validateMonitoring({ prometheusConfig: 'deploy/prometheus/prometheus.yml', datasourcesDir, dashboardsDir }); // []
 */
export function validateMonitoring(files: MonitoringFiles): string[] {
  return [...prometheusProblems(files.prometheusConfig), ...dashboardProblems(files.datasourcesDir, files.dashboardsDir)];
}
