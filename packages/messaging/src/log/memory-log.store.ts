import type { LogStore, NewRecord, StoredRecord } from './log.store';

class MemPartition {
  /** Offset of log[0]; records before it were trimmed once every group had committed them. */
  base = 0;
  log: Omit<StoredRecord, 'offset'>[] = [];
  /** Position of each group registered on this partition. */
  readonly positions = new Map<string, number>();

  get end(): number {
    return this.base + this.log.length;
  }
}

/**
 * A {@link LogStore} in the process's memory: nothing survives the process. For unit tests.
 *
 * @example
 * const broker = new LogBroker(new MemoryLogStore());
 */
export class MemoryLogStore implements LogStore {
  private readonly partitions = new Map<string, MemPartition>();

  end(topic: string, partition: number): number {
    return this.partitions.get(`${topic}:${partition}`)?.end ?? 0;
  }

  async register(group: string, topic: string, partition: number): Promise<number> {
    const p = this.partition(topic, partition);
    let position = p.positions.get(group);
    if (position === undefined) p.positions.set(group, (position = p.base));
    return position;
  }

  async append(records: readonly NewRecord[]): Promise<void> {
    for (const r of records) this.partition(r.topic, r.partition).log.push({ key: r.key, headers: r.headers, value: r.value });
  }

  async read(topic: string, partition: number, from: number, limit: number): Promise<StoredRecord[]> {
    const p = this.partition(topic, partition);
    const out: StoredRecord[] = [];
    for (let off = Math.max(from, p.base); off < p.end && out.length < limit; off++) out.push({ offset: off, ...p.log[off - p.base] });
    return out;
  }

  async commit(group: string, topic: string, partition: number, next: number): Promise<void> {
    const p = this.partition(topic, partition);
    p.positions.set(group, next);
    this.trim(p);
  }

  /** Every retained record of a topic, partition by partition, in offset order. */
  retained(topic: string): { partition: number; record: StoredRecord }[] {
    const out: { partition: number; record: StoredRecord }[] = [];
    const parts = [...this.partitions.entries()]
      .filter(([k]) => k.slice(0, k.lastIndexOf(':')) === topic)
      .map(([k, p]) => [Number(k.slice(k.lastIndexOf(':') + 1)), p] as const)
      .sort((a, b) => a[0] - b[0]);
    for (const [i, p] of parts) p.log.forEach((r, j) => out.push({ partition: i, record: { offset: p.base + j, ...r } }));
    return out;
  }

  private partition(topic: string, partition: number): MemPartition {
    const key = `${topic}:${partition}`;
    let p = this.partitions.get(key);
    if (!p) this.partitions.set(key, (p = new MemPartition()));
    return p;
  }

  /** Drops records every registered group has passed; a partition no group reads (a DLQ) keeps them all. */
  private trim(p: MemPartition): void {
    if (p.positions.size === 0) return;
    const min = Math.min(...p.positions.values());
    const drop = min - p.base;
    // Trim in chunks: shifting a large array on every batch would be quadratic.
    if (drop > 0 && (drop >= 1024 || drop === p.log.length)) {
      p.log = drop === p.log.length ? [] : p.log.slice(drop);
      p.base = min;
    }
  }
}
