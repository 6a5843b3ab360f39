import type { Queryable } from '@saga/postgres';
import { TERMINAL_STATUSES, type RegisteredDefinition, type SagaEventOutcome } from '@saga/saga';
import { METRICS } from '@saga/telemetry';
import type { ParkedEventsRepository } from './postgres/parked-events.repository';

/**
 * Prometheus observations of applied saga events; call it after their transaction committed, so a
 * rolled-back attempt counts nothing. Started / ended by outcome / end-to-end latency per saga, and
 * per step the time from its command (or compensation) being sent to the reply, or to the deadline.
 *
 * @example
 * const outcomes = await db.transaction((tx) => engine.apply(tx, events));
 * recordSagaOutcomes('orchestrator', outcomes);
 */
export function recordSagaOutcomes(service: string, outcomes: readonly SagaEventOutcome[]): void {
  for (const o of outcomes) {
    const now = o.instance;
    if (o.ignored || o.parked || now === null) continue;
    const saga = now.type;
    const before = o.previous;
    if (before === null) {
      METRICS.sagaStarted.inc({ service, saga });
    } else if (o.event.kind === 'reply' || (o.event.kind === 'timeout' && before.deadlineKind === 'REPLY')) {
      const reply = o.event.kind === 'reply' ? o.event.reply.type : 'TIMEOUT';
      METRICS.sagaStepDuration.observe({ service, saga, step: before.currentStep, reply }, seconds(before.updatedAt, now.updatedAt));
    }
    if (TERMINAL_STATUSES.includes(now.status) && (before === null || !TERMINAL_STATUSES.includes(before.status))) {
      METRICS.sagaEnded.inc({ service, saga, outcome: now.status });
      METRICS.sagaDuration.observe({ service, saga, outcome: now.status }, seconds(now.createdAt, now.updatedAt));
    }
  }
}

function seconds(from: Date, to: Date): number {
  return Math.max(0, to.getTime() - from.getTime()) / 1000;
}

/**
 * Registers the `saga_version_missing` gauge's source: at each scrape, the unfinished sagas per
 * type and definition version that this orchestrator has not registered (0 series when none).
 * Returns the function that removes the source.
 *
 * @example
 * const unregister = reportMissingVersions('orchestrator', db, parked, engine.registered());
 */
export function reportMissingVersions(
  service: string,
  db: Queryable,
  parked: ParkedEventsRepository,
  registered: readonly RegisteredDefinition[],
): () => void {
  return METRICS.sagaVersionMissing.register(async (set) => {
    for (const m of await parked.missingVersions(db, registered)) set({ service, saga: m.type, version: m.version }, m.sagas);
  });
}
