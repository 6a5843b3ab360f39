/**
 * Where a bench run's time goes (`npm run bench -- --profile`): CPU per process from /proc, commits
 * and rows written per database from pg_stat_database, WAL from pg_stat_wal (work that does not depend
 * on how fast the machine is that day), messages published and handled and consumer batch sizes from
 * the services' /metrics. Take a snapshot before and after the measured run; `diff` turns the two
 * into per-saga figures.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on Linux). */
export const HZ = 100;
/** PostgreSQL backends flush their statistics at most every second and when idle after 10 s. */
const PG_STATS_SETTLE_MS = 11_000;
const SERVICES = ['gateway', 'order', 'inventory', 'payment', 'wallet', 'orchestrator'] as const;

/** CPU and memory of the processes (the bench reads the run's end here, before PostgreSQL's statistics settle). */
export interface Processes {
  /** CPU ticks by process group: each service, kafka, postgres, embedded, and the bench client. */
  ticks: Record<string, number>;
  /** CPU ticks of the whole machine. */
  machineBusy: number;
  /** Resident memory (MB) of each node/kafka process group at the time of the snapshot. */
  rssMb: Record<string, number>;
  /**
   * Proportional set size (MB): resident memory with each shared page split among the processes
   * mapping it. About 60 MB of a service's resident memory is the Node binary, shared by all seven.
   */
  pssMb: Record<string, number>;
}

export interface Snapshot {
  at: number;
  processes: Processes;
  commits: Record<string, number>;
  /** Rows inserted, updated and deleted, per database. */
  rowsWritten: Record<string, number>;
  /** The PostgreSQL server's WAL so far (the whole server: run nothing else beside a bench). */
  wal: { records: number; bytes: number };
  metrics: Map<string, number>;
}

/** Which group a process belongs to, from its command line; undefined for the rest. */
function groupOf(cmdline: string, comm: string): string | undefined {
  if (comm.startsWith('postgres')) return 'postgres';
  if (cmdline.includes('kafka.Kafka')) return 'kafka';
  if (cmdline.includes('tools/embedded/start.ts')) return 'embedded';
  for (const s of SERVICES) if (cmdline.includes(`apps/${s}/dist/main.js`)) return s;
  return undefined;
}

/** Pss of /proc/<pid>/smaps_rollup in MB (0 when unreadable). */
function pssMbOf(pid: string): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** The fields of a /proc/<pid>/stat after `(comm)` (state first: utime is index 11, stime 12, rss 21). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU ticks (user + system) in a /proc/<pid>/stat's fields. */
function ticksIn(f: readonly string[]): number {
  return Number(f[11]) + Number(f[12]);
}

/** CPU ticks (user + system) a process has used so far. */
export function cpuTicksOf(pid: number): number {
  return ticksIn(statFields(readFileSync(`/proc/${pid}/stat`, 'utf8')));
}

function readProcesses(): Processes {
  const ticks: Record<string, number> = {};
  const rssMb: Record<string, number> = {};
  const pssMb: Record<string, number> = {};
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat: string;
    let cmdline: string;
    try {
      stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      cmdline = readFileSync(`/proc/${d}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue; // gone meanwhile
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const group = groupOf(cmdline, comm);
    if (group === undefined) continue;
    const f = statFields(stat);
    ticks[group] = (ticks[group] ?? 0) + ticksIn(f);
    // field 24 (index 21 here) is rss in pages
    if (group !== 'postgres') {
      rssMb[group] = (rssMb[group] ?? 0) + (Number(f[21]) * 4096) / 1048576;
      pssMb[group] = (pssMb[group] ?? 0) + pssMbOf(d);
    }
  }
  // The bench client itself: what it costs the machine is not the system's.
  const own = process.cpuUsage();
  ticks.bench_client = ((own.user + own.system) / 1e6) * HZ;
  return { ticks, machineBusy: machineBusyTicks(), rssMb, pssMb };
}

function machineBusyTicks(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  return total - cpu[3] - cpu[4];
}

type DatabaseStats = Pick<Snapshot, 'commits' | 'rowsWritten' | 'wal'>;

async function readDatabaseStats(databaseUrl: string): Promise<DatabaseStats> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string; commits: string; written: string }>(
      'SELECT datname, xact_commit AS commits, tup_inserted + tup_updated + tup_deleted AS written FROM pg_stat_database WHERE datname IS NOT NULL',
    );
    const wal = await client.query<{ records: string; bytes: string }>('SELECT wal_records AS records, wal_bytes AS bytes FROM pg_stat_wal');
    return {
      commits: Object.fromEntries(rows.map((r) => [r.datname, Number(r.commits)])),
      rowsWritten: Object.fromEntries(rows.map((r) => [r.datname, Number(r.written)])),
      wal: { records: Number(wal.rows[0].records), bytes: Number(wal.rows[0].bytes) },
    };
  } finally {
    await client.end();
  }
}

/**
 * The series of the profiled metrics across every /metrics endpoint, each series once (in the
 * embedded mode every service serves the whole process's registry).
 */
async function readMetrics(urls: readonly string[]): Promise<Map<string, number>> {
  const series = new Map<string, number>();
  const wanted = /^(outbox_published_total|messages_handled_total|consumer_batch_size_sum|consumer_batch_size_count)\{/;
  await Promise.all(
    urls.map(async (url) => {
      const text = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })
        .then((r) => r.text())
        .catch(() => '');
      for (const line of text.split('\n')) {
        if (!wanted.test(line)) continue;
        const i = line.lastIndexOf(' ');
        series.set(line.slice(0, i), Number(line.slice(i + 1)));
      }
    }),
  );
  return series;
}

/** Takes a snapshot; `settle` first waits for PostgreSQL's statistics to be flushed. */
export async function snapshot(o: { databaseUrl: string; metricsUrls: readonly string[]; settle: boolean }): Promise<Snapshot> {
  if (o.settle) await delay(PG_STATS_SETTLE_MS);
  const [stats, metrics] = await Promise.all([readDatabaseStats(o.databaseUrl), readMetrics(o.metricsUrls)]);
  return { at: performance.now(), processes: readProcesses(), ...stats, metrics };
}

export interface Profile {
  sagas: number;
  cpu_ms_per_saga: Record<string, number>;
  commits_per_saga: Record<string, number>;
  rows_written_per_saga: Record<string, number>;
  /** WAL records and kilobytes per saga. */
  wal_per_saga: { records: number; kb: number };
  messages_published_per_saga: number;
  messages_handled_per_saga: number;
  /** Mean messages per batch, per consumer group. */
  batch_mean: Record<string, number>;
  rss_mb: Record<string, number>;
  pss_mb: Record<string, number>;
}

const round = (x: number, d = 2) => Number(x.toFixed(d));
const wholeMb = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v, 0)]));

function sumWhere(m: Map<string, number>, prefix: string): number {
  let n = 0;
  for (const [k, v] of m) if (k.startsWith(prefix)) n += v;
  return n;
}

function perGroup(m: Map<string, number>, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of m) {
    if (!k.startsWith(`${name}{`)) continue;
    const group = /group="([^"]*)"/.exec(k)?.[1] ?? '?';
    out.set(group, (out.get(group) ?? 0) + v);
  }
  return out;
}

/** Per-saga costs between two snapshots over `sagas` completed sagas. */
export function diff(a: Snapshot, b: Snapshot, sagas: number): Profile {
  const per = (x: number) => (sagas > 0 ? x / sagas : 0);
  const cpu: Record<string, number> = {};
  let nodeTicks = 0;
  const [pa, pb] = [a.processes, b.processes];
  for (const k of Object.keys(pb.ticks).sort()) {
    const t = pb.ticks[k] - (pa.ticks[k] ?? 0);
    if (k !== 'kafka' && k !== 'postgres' && k !== 'bench_client') nodeTicks += t;
    cpu[k] = round(per((t * 1000) / HZ));
  }
  cpu.node_all = round(per((nodeTicks * 1000) / HZ));
  cpu.machine = round(per(((pb.machineBusy - pa.machineBusy) * 1000) / HZ));
  // What the system costs, without the client that drives it (the ceiling's driver is inside its orchestrator).
  cpu.machine_without_client = round(cpu.machine - (cpu.bench_client ?? 0));
  const perDatabase = (after: Record<string, number>, before: Record<string, number>): Record<string, number> => {
    const out: Record<string, number> = {};
    let total = 0;
    for (const k of Object.keys(after).sort()) {
      const n = after[k] - (before[k] ?? 0);
      if (n <= 0 || ['postgres', 'template0', 'template1'].includes(k)) continue;
      out[k] = round(per(n));
      total += n;
    }
    out.all = round(per(total));
    return out;
  };
  const delta = (name: string) => sumWhere(b.metrics, name) - sumWhere(a.metrics, name);
  const sums = perGroup(b.metrics, 'consumer_batch_size_sum');
  const counts = perGroup(b.metrics, 'consumer_batch_size_count');
  const sums0 = perGroup(a.metrics, 'consumer_batch_size_sum');
  const counts0 = perGroup(a.metrics, 'consumer_batch_size_count');
  const batchMean: Record<string, number> = {};
  for (const [group, s] of sums) {
    const n = (counts.get(group) ?? 0) - (counts0.get(group) ?? 0);
    if (n > 0) batchMean[group] = round((s - (sums0.get(group) ?? 0)) / n, 1);
  }
  return {
    sagas,
    cpu_ms_per_saga: cpu,
    commits_per_saga: perDatabase(b.commits, a.commits),
    rows_written_per_saga: perDatabase(b.rowsWritten, a.rowsWritten),
    wal_per_saga: { records: round(per(b.wal.records - a.wal.records), 1), kb: round(per(b.wal.bytes - a.wal.bytes) / 1024, 1) },
    messages_published_per_saga: round(per(delta('outbox_published_total{'))),
    messages_handled_per_saga: round(per(delta('messages_handled_total{'))),
    batch_mean: batchMean,
    rss_mb: wholeMb(pb.rssMb),
    pss_mb: wholeMb(pb.pssMb),
  };
}

/** The profile as a few readable lines (stderr), the JSON line stays last on stdout. */
export function formatProfile(p: Profile): string {
  const row = (title: string, o: Record<string, number>) =>
    `  ${title.padEnd(22)} ${Object.entries(o)
      .map(([k, v]) => `${k} ${v}`)
      .join(' · ')}`;
  return [
    `profile over ${p.sagas} sagas`,
    row('CPU ms per saga', p.cpu_ms_per_saga),
    row('commits per saga', p.commits_per_saga),
    row('rows written per saga', p.rows_written_per_saga),
    row('WAL per saga', p.wal_per_saga),
    row('messages per saga', { published: p.messages_published_per_saga, handled: p.messages_handled_per_saga }),
    row('mean batch size', p.batch_mean),
    row('resident MB', p.rss_mb),
    row('proportional MB', p.pss_mb),
  ].join('\n');
}
