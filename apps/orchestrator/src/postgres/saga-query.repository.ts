import type { Queryable } from '@saga/postgres';
import type { HistoryEntry, SagaInstance, SagaStatus } from '@saga/saga';
import { instanceOf, SAGA_COLUMNS, type SagaInstanceRow } from './pg-saga.store';

export interface SagaListFilter {
  status?: SagaStatus;
  type?: string;
  limit: number;
  offset: number;
}

/** Read side of the operator API (no locks). */
export class SagaQueryRepository {
  constructor(private readonly db: Queryable) {}

  /** Newest first; one row more than `limit` tells the caller there is a next page. */
  async list(f: SagaListFilter): Promise<SagaInstance[]> {
    const { rows } = await this.db.query<SagaInstanceRow>(
      `SELECT ${SAGA_COLUMNS} FROM saga_instances
       WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR type = $2)
       ORDER BY created_at DESC, id DESC
       LIMIT $3 OFFSET $4`,
      [f.status ?? null, f.type ?? null, f.limit + 1, f.offset],
    );
    return rows.map(instanceOf);
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
}
