import type { HistoryEntry, SagaDefinition, SagaInstance } from '@saga/saga';

/** A saga as the operator API shows it. */
export interface SagaView {
  id: string;
  type: string;
  /** The version of the saga's definition it started on, and runs on. */
  definitionVersion: number;
  /**
   * The saga is unfinished and its definition version is not registered here: it waits (events
   * parked, timer held) until the version is registered again.
   */
  versionMissing: boolean;
  status: string;
  currentStep: string;
  attempt: number;
  failure: { code: string; reason: string; step: string } | null;
  deadlineAt: string | null;
  version: number;
  data: unknown;
  createdAt: string;
  updatedAt: string;
}

export type StepState = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'COMPENSATING' | 'COMPENSATED' | 'COMPENSATION_FAILED';

/** One step of the timeline, derived from the history. */
export interface StepView {
  name: string;
  state: StepState;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  compensationAttempts: number;
}

/** `isRegistered` tells whether this orchestrator has the saga's definition version. */
export function sagaView(i: SagaInstance, isRegistered: (type: string, version: number) => boolean): SagaView {
  return {
    id: i.id,
    type: i.type,
    definitionVersion: i.definitionVersion,
    versionMissing: i.status !== 'COMPLETED' && i.status !== 'COMPENSATED' && !isRegistered(i.type, i.definitionVersion),
    status: i.status,
    currentStep: i.currentStep,
    attempt: i.attempt,
    failure: i.failure,
    deadlineAt: i.deadlineAt?.toISOString() ?? null,
    version: i.version,
    data: i.data,
    createdAt: i.createdAt.toISOString(),
    updatedAt: i.updatedAt.toISOString(),
  };
}

/**
 * Per-step timeline with timings: when the step's command was first sent, when its outcome came
 * (success, failure, compensated), how many sends it took.
 */
export function stepTimeline(def: SagaDefinition<unknown> | null, history: readonly HistoryEntry[]): StepView[] {
  const names = def ? def.steps.map((s) => s.name) : [...new Set(history.map((h) => h.step))];
  const steps = new Map<string, StepView>(
    names.map((name) => [
      name,
      { name, state: 'PENDING', attempts: 0, startedAt: null, finishedAt: null, durationMs: null, compensationAttempts: 0 },
    ]),
  );
  for (const h of history) {
    const s = steps.get(h.step);
    if (!s) continue;
    const at = new Date(h.at);
    const finish = (state: StepState) => {
      s.state = state;
      s.finishedAt = at.toISOString();
      s.durationMs = s.startedAt ? at.getTime() - Date.parse(s.startedAt) : null;
    };
    switch (h.event) {
      case 'STARTED':
        // Steps done by the saga's starter (doneAtStart) succeeded as the saga started.
        for (const name of (h.detail.doneAtStart as string[] | undefined) ?? []) {
          const done = steps.get(name);
          if (!done) continue;
          Object.assign(done, { state: 'SUCCEEDED', startedAt: at.toISOString(), finishedAt: at.toISOString(), durationMs: 0 });
        }
        break;
      case 'COMMAND_SENT':
        s.state = 'RUNNING';
        s.startedAt = at.toISOString();
        s.attempts++;
        break;
      case 'RETRY':
        s.attempts++;
        break;
      case 'REPLY':
        if (h.detail.outcome === 'success') finish('SUCCEEDED');
        break;
      case 'STEP_FAILED':
        finish('FAILED');
        break;
      case 'COMPENSATION_SENT':
      case 'COMPENSATION_RETRY':
        s.state = 'COMPENSATING';
        s.compensationAttempts++;
        break;
      case 'COMPENSATION_REPLY':
        s.state = 'COMPENSATED';
        s.finishedAt = at.toISOString();
        break;
      case 'COMPENSATION_FAILED':
        s.state = 'COMPENSATION_FAILED';
        break;
      default:
        break;
    }
  }
  return [...steps.values()];
}

/** JSON shape of one history entry. */
export function historyView(h: HistoryEntry) {
  return { seq: h.seq, at: new Date(h.at).toISOString(), step: h.step, event: h.event, detail: h.detail };
}
