import type { Queryable } from '@saga/postgres';
import type { RegisteredDefinition, SagaEvent } from '@saga/saga';

/** A parked event as read back for replay. */
export interface ParkedEvent {
  id: string;
  event: SagaEvent;
}

/** Unfinished sagas on one definition version that is not registered. */
export interface MissingVersionCount {
  type: string;
  version: number;
  sagas: number;
}

const UNFINISHED = `('RUNNING', 'COMPENSATING', 'COMPENSATION_FAILED')`;
const REGISTERED = `(SELECT * FROM unnest($1::text[], $2::int[]))`;

function registeredParams(registered: readonly RegisteredDefinition[]): [string[], number[]] {
  return [registered.map((r) => r.type), registered.map((r) => r.version)];
}

/**
 * Saga events the engine could not apply because the saga's definition version is not registered
 * (docs/adr/0011): written in the transaction that consumed them, read back (oldest first) once an
 * orchestrator that has the version runs, deleted when applied.
 */
export class ParkedEventsRepository {
  /** Keeps `events` (each with why it waits) in `tx`. */
  async park(tx: Queryable, events: readonly { event: SagaEvent; reason: string }[]): Promise<void> {
    if (events.length === 0) return;
    await tx.query(
      `INSERT INTO saga_parked_events (saga_id, event, reason)
       SELECT saga_id, event, reason FROM jsonb_to_recordset($1::jsonb) AS t(saga_id text, event jsonb, reason text)`,
      [JSON.stringify(events.map((e) => ({ saga_id: e.event.sagaId, event: e.event, reason: e.reason })))],
    );
  }

  /** Up to `limit` parked events of sagas whose version is now registered, oldest first, locked (SKIP LOCKED). */
  async claimReplayable(tx: Queryable, registered: readonly RegisteredDefinition[], limit: number): Promise<ParkedEvent[]> {
    const { rows } = await tx.query<{ id: string; event: SagaEvent }>(
      `SELECT p.id::text AS id, p.event FROM saga_parked_events p JOIN saga_instances s ON s.id = p.saga_id
       WHERE (s.type, s.definition_version) IN ${REGISTERED}
       ORDER BY p.id LIMIT $3 FOR UPDATE OF p SKIP LOCKED`,
      [...registeredParams(registered), limit],
    );
    return rows;
  }

  async delete(tx: Queryable, ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await tx.query('DELETE FROM saga_parked_events WHERE id = ANY($1::bigint[])', [ids]);
  }

  /** How many events of saga `id` wait. */
  async countOf(db: Queryable, id: string): Promise<number> {
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM saga_parked_events WHERE saga_id = $1', [id]);
    return rows[0].n;
  }

  /** Unfinished sagas per type and version that is not registered (the saga_version_missing gauge). */
  async missingVersions(db: Queryable, registered: readonly RegisteredDefinition[]): Promise<MissingVersionCount[]> {
    const { rows } = await db.query<MissingVersionCount>(
      `SELECT type, definition_version AS version, count(*)::int AS sagas FROM saga_instances
       WHERE status IN ${UNFINISHED} AND (type, definition_version) NOT IN ${REGISTERED}
       GROUP BY 1, 2 ORDER BY 1, 2`,
      registeredParams(registered),
    );
    return rows;
  }
}

/** SQL condition (for saga_instances) of an unfinished saga whose version is not among $n (types) / $n+1 (versions). */
export function versionMissingCondition(typesParam: number): string {
  return `(status IN ${UNFINISHED} AND (type, definition_version) NOT IN (SELECT * FROM unnest($${typesParam}::text[], $${typesParam + 1}::int[])))`;
}
