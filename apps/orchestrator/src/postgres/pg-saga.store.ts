import type { Queryable, Transaction } from '@saga/postgres';
import {
  SagaConflictError,
  type DeadlineKind,
  type RegisteredDefinition,
  type SagaChanges,
  type SagaFailure,
  type SagaInstance,
  type SagaStatus,
  type SagaStore,
} from '@saga/saga';

/** A saga_instances row as pg returns it (timestamptz → Date, jsonb → value, int → number). */
export interface SagaInstanceRow {
  id: string;
  type: string;
  definition_version: number;
  status: SagaStatus;
  current_step: string;
  attempt: number;
  data: unknown;
  pending_command_ids: string[];
  deadline_at: Date | null;
  deadline_kind: DeadlineKind | null;
  failure: SagaFailure | null;
  version: number;
  history_size: number;
  created_at: Date;
  updated_at: Date;
}

export const SAGA_COLUMNS =
  'id, type, definition_version, status, current_step, attempt, data, pending_command_ids, deadline_at, deadline_kind, failure, version, history_size, created_at, updated_at';

// Batches travel as jsonb parameters expanded by jsonb_to_recordset: one statement for a whole
// batch's changes (a round trip costs 2-4 ms on the orchestrator's serial path under load: ADR 10),
// and no RETURNING of rows (the nested-loop trap of DESIGN §4). The UPDATE also gets the ids as an
// array: without `s.id = ANY($3)` the planner hash-joins the batch against a Seq Scan of the whole
// table; with it, an Index Scan on the primary key feeds the join.
const RECORD = `id text, type text, definition_version int, status text, current_step text, attempt int, data jsonb, pending_command_ids jsonb,
  deadline_at timestamptz, deadline_kind text, failure jsonb, version int, history_size int,
  created_at timestamptz, updated_at timestamptz, expected_version int`;

/**
 * $1 new instances, $2 changed instances with their expected version, $3 the changed ids, $4 history
 * entries (jsonb arrays, possibly empty). Returns how many changed instances were at their expected
 * version; inserts and updates touch different ids, so their order within the statement does not matter.
 */
export const SAVE_SQL = `
  WITH inserted AS (
    INSERT INTO saga_instances (${SAGA_COLUMNS})
    SELECT ${SAGA_COLUMNS} FROM jsonb_to_recordset($1::jsonb) AS t(${RECORD})
  ), updated AS (
    UPDATE saga_instances s SET
      status = t.status, current_step = t.current_step, attempt = t.attempt, data = t.data,
      pending_command_ids = t.pending_command_ids, deadline_at = t.deadline_at, deadline_kind = t.deadline_kind,
      failure = t.failure, version = t.version, history_size = t.history_size, updated_at = t.updated_at
    FROM jsonb_to_recordset($2::jsonb) AS t(${RECORD})
    WHERE s.id = ANY($3::text[]) AND s.id = t.id AND s.version = t.expected_version
    RETURNING 1
  ), appended AS (
    INSERT INTO saga_history (saga_id, seq, at, step, event, detail)
    SELECT saga_id, seq, at, step, event, detail
    FROM jsonb_to_recordset($4::jsonb) AS t(saga_id text, seq int, at timestamptz, step text, event text, detail jsonb)
  )
  SELECT count(*)::int AS updated FROM updated`;

// Locks in id order so two transactions with overlapping batches cannot deadlock.
export const LOAD_SQL = `SELECT ${SAGA_COLUMNS} FROM saga_instances WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`;

// Only sagas whose definition version is registered: one of a missing version keeps its timer.
export const CLAIM_DUE_SQL = `
  SELECT ${SAGA_COLUMNS} FROM saga_instances
  WHERE deadline_at <= $1
    AND (type, definition_version) IN (SELECT * FROM unnest($3::text[], $4::int[]))
  ORDER BY deadline_at
  LIMIT $2
  FOR UPDATE SKIP LOCKED`;

/**
 * The orchestrator's {@link SagaStore} on PostgreSQL. Runs on the caller's transaction, so the
 * instances, their history and the outbox rows of the commands commit together.
 */
export class PgSagaStore implements SagaStore<Transaction> {
  async loadForUpdate(tx: Queryable, ids: readonly string[]): Promise<SagaInstance[]> {
    if (ids.length === 0) return [];
    const { rows } = await tx.query<SagaInstanceRow>(LOAD_SQL, [ids]);
    return rows.map(instanceOf);
  }

  async claimDue(tx: Queryable, now: Date, limit: number, registered: readonly RegisteredDefinition[]): Promise<SagaInstance[]> {
    const { rows } = await tx.query<SagaInstanceRow>(CLAIM_DUE_SQL, [now, limit, registered.map((r) => r.type), registered.map((r) => r.version)]);
    return rows.map(instanceOf);
  }

  /**
   * Queued (`Transaction.queue`): the statement travels with the outbox insert that follows it, and
   * its conflict surfaces when the transaction commits, which then rolls back.
   */
  async save(tx: Transaction, { inserts, updates, history }: SagaChanges): Promise<void> {
    const changed = updates.map((u) => recordOf(u.instance, u.expectedVersion));
    const entries = history.map((e) => ({ saga_id: e.sagaId, seq: e.seq, at: e.at, step: e.step, event: e.event, detail: e.detail }));
    tx.queue<{ updated: number }>(
      SAVE_SQL,
      [JSON.stringify(inserts.map((i) => recordOf(i, 0))), JSON.stringify(changed), changed.map((r) => r.id), JSON.stringify(entries)],
      ({ rows }) => {
        const updated = rows[0].updated;
        if (updated !== updates.length) throw new SagaConflictError(`${updates.length - updated} of ${updates.length} sagas changed concurrently`);
      },
      (err) => ((err as { code?: string }).code === '23505' ? new SagaConflictError(`a saga of this batch already exists: ${(err as Error).message}`) : err),
    );
  }
}

/** Instance of a row. */
export function instanceOf(r: SagaInstanceRow): SagaInstance {
  return {
    id: r.id,
    type: r.type,
    definitionVersion: r.definition_version,
    status: r.status,
    currentStep: r.current_step,
    attempt: r.attempt,
    data: r.data,
    pendingCommandIds: r.pending_command_ids,
    deadlineAt: r.deadline_at,
    deadlineKind: r.deadline_kind,
    failure: r.failure,
    version: r.version,
    historySize: r.history_size,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function recordOf(i: SagaInstance, expectedVersion: number) {
  return {
    id: i.id,
    type: i.type,
    definition_version: i.definitionVersion,
    status: i.status,
    current_step: i.currentStep,
    attempt: i.attempt,
    data: i.data,
    pending_command_ids: i.pendingCommandIds,
    deadline_at: i.deadlineAt,
    deadline_kind: i.deadlineKind,
    failure: i.failure,
    version: i.version,
    history_size: i.historySize,
    created_at: i.createdAt,
    updated_at: i.updatedAt,
    expected_version: expectedVersion,
  };
}
