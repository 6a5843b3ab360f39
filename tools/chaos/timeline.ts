// Throughput and latency over a chaos run's time, and how long the system took to recover from each fault.
import type { SagaRecord } from './load.ts';

export interface InjectedFault {
  kind: string;
  target: string;
  /** When it was injected and when the tool was done with it (hold and restart included), ms since the run started. */
  atMs: number;
  doneMs: number;
  what: string;
}

/** Throughput is read over windows this long: at ~10–50 sagas/s a shorter one is mostly noise. */
const WINDOW_MS = 3_000;
const STEP_MS = 250;
const BASELINE_MS = 10_000;

/** Answers (any outcome) per second, in one-second buckets. */
export function throughputPerSecond(records: readonly SagaRecord[], endMs: number): number[] {
  const buckets = new Array<number>(Math.ceil(endMs / 1000) + 1).fill(0);
  for (const r of records) if (r.status !== 0) buckets[Math.floor(r.endMs / 1000)]++;
  return buckets;
}

/** p50 / p99 latency (from each saga's due time to its answer) per `bucketS`-second bucket of answer time. */
export function latencyOverTime(records: readonly SagaRecord[], bucketS = 5): { atS: number; p50: number; p99: number }[] {
  const groups = new Map<number, number[]>();
  for (const r of records) {
    if (r.status === 0) continue;
    const b = Math.floor(r.endMs / 1000 / bucketS) * bucketS;
    const bucket = groups.get(b) ?? [];
    bucket.push(r.endMs - r.dueMs);
    groups.set(b, bucket);
  }
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([atS, xs]) => ({ atS, p50: quantile(xs, 0.5), p99: quantile(xs, 0.99) }));
}

export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
}

/**
 * Seconds from the fault to throughput back at 80% of before: the start of the first 3-s window,
 * at or after the fault, whose rate of answers is ≥ 80% of the rate before it; null when that does
 * not happen before `untilMs` (the next fault, or the end of the run). "Before" is the rate of the
 * 10 s before the fault, but never more than the offered load (`offeredPerS`): those 10 s may hold
 * the catch-up burst after the previous fault, which no steady state reaches again.
 */
export function recoverySeconds(records: readonly SagaRecord[], fault: InjectedFault, untilMs: number, offeredPerS: number): number | null {
  const ends = records.filter((r) => r.status !== 0).map((r) => r.endMs).sort((a, b) => a - b);
  const count = (from: number, to: number) => lowerBound(ends, to) - lowerBound(ends, from);
  const before = Math.min(count(fault.atMs - BASELINE_MS, fault.atMs) / BASELINE_MS, offeredPerS / 1000);
  if (before === 0) return 0;
  for (let t = fault.atMs; t + WINDOW_MS <= untilMs; t += STEP_MS) {
    // Not before the fault's own hold is over: a paused service is not "recovered" by work in flight.
    if (t < fault.atMs + holdOf(fault)) continue;
    if (count(t, t + WINDOW_MS) / WINDOW_MS >= 0.8 * before) return Math.round((t - fault.atMs) / 100) / 10;
  }
  return null;
}

/** The part of a fault that is its hold (a pause, an outage), not the restart: only those are skipped. */
function holdOf(fault: InjectedFault): number {
  return fault.kind === 'pause' || fault.kind === 'wallet-outage' ? fault.doneMs - fault.atMs : 0;
}

function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
