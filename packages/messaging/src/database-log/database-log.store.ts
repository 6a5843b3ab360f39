import { migrate, type Database } from '@saga/postgres';
import type { LogStore, NewRecord, StoredRecord } from '../log/log.store';
import { BUS_MIGRATIONS } from './bus.migrations';

interface PartitionState {
  end: number;
  positions: Map<string, number>;
}

/**
 * A {@link LogStore} in SQL tables (`BUS_MIGRATIONS`), so the log and the groups' positions survive
 * a crash: a record is appended in one transaction before `send` resolves, a position is written
 * after its batch was handled. One process owns the log (the positions and ends are cached in
 * memory, appends are serialized so offsets are gap-free and become visible in order).
 *
 * @example
 * const store = await DatabaseLogStore.open(await PgliteDatabase.open(pg, 'bus'));
 */
export class DatabaseLogStore implements LogStore {
  private readonly partitions = new Map<string, PartitionState>();
  /** Appends run one after the other. */
  private appending: Promise<void> = Promise.resolve();

  private constructor(private readonly db: Database) {}

  /** Migrates the bus tables and loads every partition's end and every group's position. */
  static async open(db: Database): Promise<DatabaseLogStore> {
    await migrate(db, BUS_MIGRATIONS);
    const store = new DatabaseLogStore(db);
    const ends = await db.query<{ topic: string; partition: number; end: string | number }>(
      'SELECT topic, partition, max("offset") + 1 AS end FROM bus_records GROUP BY topic, partition',
    );
    for (const r of ends.rows) store.state(r.topic, r.partition).end = Number(r.end);
    const positions = await db.query<{ group_id: string; topic: string; partition: number; next_offset: string | number }>(
      'SELECT group_id, topic, partition, next_offset FROM bus_positions',
    );
    for (const r of positions.rows) {
      const s = store.state(r.topic, r.partition);
      const next = Number(r.next_offset);
      s.positions.set(r.group_id, next);
      // Every record may have been trimmed: the end is at least where a group got to.
      if (next > s.end) s.end = next;
    }
    return store;
  }

  end(topic: string, partition: number): number {
    return this.partitions.get(`${topic}:${partition}`)?.end ?? 0;
  }

  async register(group: string, topic: string, partition: number): Promise<number> {
    const s = this.state(topic, partition);
    const known = s.positions.get(group);
    if (known !== undefined) return known;
    const oldest = await this.db.query<{ first: string | number | null }>(
      'SELECT min("offset") AS first FROM bus_records WHERE topic = $1 AND partition = $2',
      [topic, partition],
    );
    const first = oldest.rows[0]?.first;
    const position = first === null || first === undefined ? s.end : Number(first);
    await this.db.query(
      'INSERT INTO bus_positions (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [group, topic, partition, position],
    );
    s.positions.set(group, position);
    return position;
  }

  append(records: readonly NewRecord[]): Promise<void> {
    const run = this.appending.then(() => this.insert(records));
    this.appending = run.catch(() => undefined);
    return run;
  }

  private async insert(records: readonly NewRecord[]): Promise<void> {
    if (records.length === 0) return;
    const next = new Map<string, number>();
    const offsets = records.map((r) => {
      const k = `${r.topic}:${r.partition}`;
      const o = next.get(k) ?? this.end(r.topic, r.partition);
      next.set(k, o + 1);
      return o;
    });
    await this.db.query(
      `INSERT INTO bus_records (topic, partition, "offset", key, headers, value)
       SELECT t, p, o, k, h::jsonb, v FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::text[], $6::text[]) AS r(t, p, o, k, h, v)`,
      [
        records.map((r) => r.topic),
        records.map((r) => r.partition),
        offsets,
        records.map((r) => r.key),
        records.map((r) => JSON.stringify(r.headers)),
        records.map((r) => r.value ?? null),
      ],
    );
    // Visible to consumers only now that it is stored.
    for (const [k, end] of next) {
      const sep = k.lastIndexOf(':');
      this.state(k.slice(0, sep), Number(k.slice(sep + 1))).end = end;
    }
  }

  async read(topic: string, partition: number, from: number, limit: number): Promise<StoredRecord[]> {
    const res = await this.db.query<{ offset: string | number; key: string; headers: Record<string, string>; value: string | null }>(
      'SELECT "offset", key, headers, value FROM bus_records WHERE topic = $1 AND partition = $2 AND "offset" >= $3 ORDER BY "offset" LIMIT $4',
      [topic, partition, from, limit],
    );
    return res.rows.map((r) => ({ offset: Number(r.offset), key: r.key, headers: r.headers, value: r.value ?? undefined }));
  }

  async commit(group: string, topic: string, partition: number, next: number): Promise<void> {
    const s = this.state(topic, partition);
    const min = Math.min(next, ...[...s.positions].filter(([g]) => g !== group).map(([, p]) => p));
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO bus_positions (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
         ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset`,
        [group, topic, partition, next],
      );
      // Records every group has passed are not needed any more (a partition no group reads keeps all).
      await tx.query('DELETE FROM bus_records WHERE topic = $1 AND partition = $2 AND "offset" < $3', [topic, partition, min]);
    });
    s.positions.set(group, next);
  }

  private state(topic: string, partition: number): PartitionState {
    const k = `${topic}:${partition}`;
    let s = this.partitions.get(k);
    if (!s) this.partitions.set(k, (s = { end: 0, positions: new Map() }));
    return s;
  }
}
