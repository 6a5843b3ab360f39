import { keysetOrder } from '@saga/nest-kit';
import type { Queryable } from '@saga/postgres';
import type { HistoryEntry, RegisteredDefinition, SagaInstance, SagaStatus } from '@saga/saga';
import { versionMissingCondition } from './parked-events.repository';
import { instanceOf, SAGA_COLUMNS, type SagaInstanceRow } from './pg-saga.store';

export interface SagaListFilter {
  status?: SagaStatus;
  type?: string;
  /** Only sagas created at least this many seconds ago (e.g. RUNNING for over a minute: stuck). */
  minAgeSeconds?: number;
  /** Only sagas created at most this many seconds ago. */
  maxAgeSeconds?: number;
  /** Only the unfinished sagas whose definition version is not among these (the registered ones). */
  versionMissing?: readonly RegisteredDefinition[];
  /** Rows to read (a page's limit + 1, so one more tells there is a next page). */
  limit: number;
  /** Keyset position: created_at (PostgreSQL's text, microseconds kept) and id of the previous page's last row. */
  after?: readonly [string, string];
  sort: 'asc' | 'desc';
}

/** Sagas that ended in one second, by outcome. */
export interface OutcomeBucket {
  at: string;
  COMPLETED: number;
  COMPENSATED: number;
  COMPENSATION_FAILED: number;
}

/** Read side of the operator API (no locks). */
export class SagaQueryRepository {
  constructor(private readonly db: Queryable) {}

  /** By (created_at, id) after the keyset position `after`; each with its key for the next cursor. */
  async list(f: SagaListFilter): Promise<{ instance: SagaInstance; key: [string, string] }[]> {
    const { after, direction } = keysetOrder(f.sort);
    const { rows } = await this.db.query<SagaInstanceRow & { cursor_at: string }>(
      `SELECT ${SAGA_COLUMNS}, created_at::text AS cursor_at FROM saga_instances
       WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR type = $2)
         AND ($4::float8 IS NULL OR created_at <= now() - $4::float8 * interval '1 second')
         AND ($5::float8 IS NULL OR created_at >= now() - $5::float8 * interval '1 second')
         AND ($6::timestamptz IS NULL OR (created_at, id) ${after} ($6::timestamptz, $7::text))
         AND (NOT $8::boolean OR ${versionMissingCondition(9)})
       ORDER BY created_at ${direction}, id ${direction}
       LIMIT $3`,
      [
        f.status ?? null, f.type ?? null, f.limit, f.minAgeSeconds ?? null, f.maxAgeSeconds ?? null, f.after?.[0] ?? null, f.after?.[1] ?? null,
        f.versionMissing !== undefined, (f.versionMissing ?? []).map((r) => r.type), (f.versionMissing ?? []).map((r) => r.version),
      ],
    );
    return rows.map((r) => ({ instance: instanceOf(r), key: [r.cursor_at, r.id] }));
  }

  async get(id: string): Promise<SagaInstance | null> {
    const { rows } = await this.db.query<SagaInstanceRow>(`SELECT ${SAGA_COLUMNS} FROM saga_instances WHERE id = $1`, [id]);
    return rows.length === 0 ? null : instanceOf(rows[0]);
  }

  async history(id: string): Promise<HistoryEntry[]> {
    const { rows } = await this.db.query<HistoryEntry>(
      'SELECT seq, at, step, event, detail FROM saga_history WHERE saga_id = $1 ORDER BY seq',
      [id],
    );
    return rows;
  }

  /**
   * Sagas ended per second by outcome over the last `seconds` (oldest first, a bucket for every
   * second, zeros included), from the history's partial index on outcome events.
   */
  async outcomesPerSecond(seconds: number): Promise<OutcomeBucket[]> {
    const { rows } = await this.db.query<{ at: Date; event: string; n: string }>(
      `SELECT date_trunc('second', at) AS at, event, count(*) AS n FROM saga_history
       WHERE event IN ('COMPLETED', 'COMPENSATED', 'COMPENSATION_FAILED') AND at > date_trunc('second', now()) - $1::int * interval '1 second'
       GROUP BY 1, 2`,
      [seconds],
    );
    const { rows: [clock] } = await this.db.query<{ now: Date }>(`SELECT date_trunc('second', now()) AS now`);
    const end = clock.now.getTime();
    const buckets = new Map<number, OutcomeBucket>();
    for (let t = end - (seconds - 1) * 1000; t <= end; t += 1000) {
      buckets.set(t, { at: new Date(t).toISOString(), COMPLETED: 0, COMPENSATED: 0, COMPENSATION_FAILED: 0 });
    }
    for (const r of rows) {
      const b = buckets.get(new Date(r.at).getTime());
      if (b) b[r.event as keyof Omit<OutcomeBucket, 'at'>] += Number(r.n);
    }
    return [...buckets.values()];
  }
}
