import {
  defineSaga,
  type CompensationSpec,
  type ReplyRules,
  type SagaCommand,
  type SagaDefinition,
  type SagaFailure,
} from '../saga-definition';

/**
 * The sagas the simulation runs: three shapes that between them use every feature of the builder
 * (doneAtStart, compensable steps with and without compensateOnTimeout or anything to undo, pivots
 * with and without `onUnknownOutcome`, retriable tails, immediate and backed-off retry policies,
 * short compensation retries, a saga without a pivot).
 * Message types follow one scheme, so the simulation can tell from a type alone which step and role
 * a command or reply belongs to, whatever the engine under test claims.
 *
 * @example
 * INVOKE('reserveStock') === 'Do.reserveStock';
 * parseMessageType('Undone.reserveStock'); // { role: 'undone', step: 'reserveStock' }
 */

/** Saga data: the id, and the steps whose success reply was applied (each `update` appends one). */
export interface SimData {
  readonly sagaId: string;
  readonly doneSteps: readonly string[];
}

/** Payload of every simulated message. */
export interface SimPayload {
  readonly sagaId: string;
  readonly code?: string;
  readonly reason?: string;
}

/** The simulation's message catalogue: every type carries a {@link SimPayload}. */
export type SimMessages = Record<string, SimPayload>;

/** What a message does for its step. */
export type SimMessageRole = 'invoke' | 'done' | 'failed' | 'undo' | 'undone';

const PREFIX: Readonly<Record<SimMessageRole, string>> = {
  invoke: 'Do',
  done: 'Done',
  failed: 'Failed',
  undo: 'Undo',
  undone: 'Undone',
};

/** Command that runs a step. */
export const INVOKE = (step: string): string => `${PREFIX.invoke}.${step}`;
/** Success reply of a step. */
export const DONE = (step: string): string => `${PREFIX.done}.${step}`;
/** Failure reply of a step. */
export const FAILED = (step: string): string => `${PREFIX.failed}.${step}`;
/** Compensation command of a step. */
export const UNDO = (step: string): string => `${PREFIX.undo}.${step}`;
/** Reply to a compensation. */
export const UNDONE = (step: string): string => `${PREFIX.undone}.${step}`;
/** A reply type no step expects (a participant answering with something the saga does not know). */
export const UNEXPECTED_REPLY = 'Unexpected.reply';
/** Failure code a participant puts in a step's failure reply. */
export const FAILURE_CODE = (step: string): string => `SIM_REJECTED_${step}`;

/** Step and role of a simulated message type; null for types outside the scheme. */
export function parseMessageType(type: string): { role: SimMessageRole; step: string } | null {
  const dot = type.indexOf('.');
  if (dot < 0) return null;
  const prefix = type.slice(0, dot);
  const role = (Object.keys(PREFIX) as SimMessageRole[]).find((r) => PREFIX[r] === prefix);
  return role ? { role, step: type.slice(dot + 1) } : null;
}

function invoke(step: string): (data: SimData) => { participant: string; type: string; payload: SimPayload } {
  return (d) => ({ participant: `${step}.commands`, type: INVOKE(step), payload: { sagaId: d.sagaId } });
}

/** Success appends the step to `doneSteps` (so a reply applied twice shows in the data); failure is plain. */
function replies(step: string): ReplyRules<SimData, SimMessages> {
  return {
    [DONE(step)]: { outcome: 'success', update: (d: SimData) => ({ ...d, doneSteps: [...d.doneSteps, step] }) },
    [FAILED(step)]: 'failure',
  };
}

function compensate(
  step: string,
  extra: Partial<Pick<CompensationSpec<SimData, SimMessages>, 'timeoutMs' | 'retry'>> = {},
): CompensationSpec<SimData, SimMessages> {
  return {
    command: (d: SimData, f: SagaFailure): SagaCommand & { payload: SimPayload } => ({
      participant: `${step}.commands`,
      type: UNDO(step),
      payload: { sagaId: d.sagaId, code: f.code, reason: f.reason },
    }),
    onReply: UNDONE(step),
    ...extra,
  };
}

/**
 * The place-order shape: a doneAtStart leading step, a compensable reservation, the payment pivot
 * (undone only when its outcome is unknown), then two retriable steps, one with a backoff and one
 * re-sent at once.
 */
export const SIM_PLACE_ORDER: SagaDefinition<SimData, SimMessages> = defineSaga<SimData, SimMessages>('SimPlaceOrder', {
  timeoutMs: 10_000,
  retry: { maxAttempts: 3, backoffMs: 500 },
  compensationRetry: { maxAttempts: 3, backoffMs: 500, maxBackoffMs: 2_000 },
})
  .compensable('markPaymentPending', {
    invoke: invoke('markPaymentPending'),
    onReply: replies('markPaymentPending'),
    compensate: compensate('markPaymentPending'),
    compensateOnTimeout: true,
    doneAtStart: true,
  })
  .compensable('reserveStock', {
    invoke: invoke('reserveStock'),
    onReply: replies('reserveStock'),
    compensate: compensate('reserveStock'),
    compensateOnTimeout: true,
  })
  .pivot('processPayment', {
    invoke: invoke('processPayment'),
    onReply: replies('processPayment'),
    onUnknownOutcome: compensate('processPayment', { timeoutMs: 5_000 }),
    timeoutMs: 20_000,
    retry: { maxAttempts: 1, backoffMs: 0 },
  })
  .retriable('confirmOrder', {
    invoke: invoke('confirmOrder'),
    onReply: replies('confirmOrder'),
    retry: { maxAttempts: 1, backoffMs: 500, maxBackoffMs: 4_000 },
  })
  .retriable('commitStock', {
    invoke: invoke('commitStock'),
    onReply: replies('commitStock'),
    retry: { maxAttempts: 1, backoffMs: 0 },
  })
  .build();

/**
 * Five steps: a validation with nothing to undo (and immediate re-sends), a compensable step that
 * must not be undone when it times out, one that must, a pivot without `onUnknownOutcome`, a
 * retriable tail. Compensations give up after two sends (COMPENSATION_FAILED comes quickly).
 */
export const SIM_TRIP: SagaDefinition<SimData, SimMessages> = defineSaga<SimData, SimMessages>('SimTrip', {
  timeoutMs: 4_000,
  compensationRetry: { maxAttempts: 2, backoffMs: 0 },
})
  .compensable('validate', {
    invoke: invoke('validate'),
    onReply: replies('validate'),
    compensate: 'none',
    retry: { maxAttempts: 2, backoffMs: 0 },
  })
  .compensable('bookHotel', {
    invoke: invoke('bookHotel'),
    onReply: replies('bookHotel'),
    compensate: compensate('bookHotel', { timeoutMs: 2_000 }),
    retry: { maxAttempts: 2, backoffMs: 300 },
  })
  .compensable('bookFlight', {
    invoke: invoke('bookFlight'),
    onReply: replies('bookFlight'),
    compensate: compensate('bookFlight'),
    compensateOnTimeout: true,
    retry: { maxAttempts: 3, backoffMs: 100, maxBackoffMs: 150 },
  })
  .pivot('chargeCard', { invoke: invoke('chargeCard'), onReply: replies('chargeCard'), timeoutMs: 6_000 })
  .retriable('sendConfirmation', { invoke: invoke('sendConfirmation'), onReply: replies('sendConfirmation') })
  .build();

/**
 * No pivot: two doneAtStart steps (one with a compensation, one with nothing to undo) and a
 * compensable step without compensateOnTimeout; a compensation is sent once, then the saga waits
 * for an operator.
 */
export const SIM_HOLD: SagaDefinition<SimData, SimMessages> = defineSaga<SimData, SimMessages>('SimHold', {
  timeoutMs: 3_000,
  compensationRetry: { maxAttempts: 1, backoffMs: 0 },
})
  .compensable('holdFunds', {
    invoke: invoke('holdFunds'),
    onReply: replies('holdFunds'),
    compensate: compensate('holdFunds'),
    doneAtStart: true,
  })
  .compensable('auditHold', { invoke: invoke('auditHold'), onReply: replies('auditHold'), compensate: 'none', doneAtStart: true })
  .compensable('capture', {
    invoke: invoke('capture'),
    onReply: replies('capture'),
    compensate: compensate('capture'),
    retry: { maxAttempts: 2, backoffMs: 1_000 },
  })
  .build();

/** Every simulated saga definition. */
export const SIM_SAGAS: readonly SagaDefinition<SimData, SimMessages>[] = [SIM_PLACE_ORDER, SIM_TRIP, SIM_HOLD];
