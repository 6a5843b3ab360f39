import type { SagaFailure } from './saga-definition';

/**
 * Saga lifecycle. RUNNING and COMPENSATING have a timer; COMPLETED and COMPENSATED are final;
 * COMPENSATION_FAILED waits for an operator (or a late compensation reply) and has no timer.
 *
 * @example
 * if (TERMINAL_STATUSES.includes(instance.status)) return;
 */
export type SagaStatus = 'RUNNING' | 'COMPENSATING' | 'COMPLETED' | 'COMPENSATED' | 'COMPENSATION_FAILED';

export const SAGA_STATUSES: readonly SagaStatus[] = [
  'RUNNING',
  'COMPENSATING',
  'COMPLETED',
  'COMPENSATED',
  'COMPENSATION_FAILED',
];

/** Statuses in which nothing happens any more on its own. */
export const TERMINAL_STATUSES: readonly SagaStatus[] = ['COMPLETED', 'COMPENSATED', 'COMPENSATION_FAILED'];

/** What the durable timer at `deadlineAt` means: a reply is overdue, or a backoff is over and a re-send is due. */
export type DeadlineKind = 'REPLY' | 'RESEND';

/**
 * One saga's state; a value (never mutated): each transition returns a new one with `version + 1`.
 *
 * @example
 * const { instance } = start(def, { sagaId: 'o-1', data, now, ids });
 * instance.status === 'RUNNING' && instance.version === 1;
 */
export interface SagaInstance<D = unknown> {
  readonly id: string;
  /** Definition type, e.g. 'PlaceOrder'. */
  readonly type: string;
  /**
   * The version of the definition the saga started on; every transition uses that version's
   * definition, whichever versions were registered since (not to be confused with `version`).
   */
  readonly definitionVersion: number;
  readonly status: SagaStatus;
  /** The step whose command or compensation was sent last (while compensating: the one being undone). */
  readonly currentStep: string;
  /** 1-based send count of the current command or compensation. */
  readonly attempt: number;
  readonly data: D;
  /**
   * Message ids of the commands sent for the current step (or compensation), every attempt. Only a
   * reply whose causation id is listed here is applied; others are late or duplicate and ignored.
   */
  readonly pendingCommandIds: readonly string[];
  /** The durable timer; null when nothing is awaited (final statuses, COMPENSATION_FAILED). */
  readonly deadlineAt: Date | null;
  readonly deadlineKind: DeadlineKind | null;
  readonly failure: SagaFailure | null;
  /** Optimistic concurrency: 1 after start, +1 per transition. */
  readonly version: number;
  /** Number of history entries written so far; the next entry gets seq `historySize + 1`. */
  readonly historySize: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export type HistoryEvent =
  | 'STARTED'
  | 'COMMAND_SENT'
  | 'REPLY'
  | 'TIMEOUT'
  | 'RETRY_SCHEDULED'
  | 'RETRY'
  | 'STEP_FAILED'
  | 'COMPENSATION_SENT'
  | 'COMPENSATION_REPLY'
  | 'COMPENSATION_TIMEOUT'
  | 'COMPENSATION_RETRY'
  | 'COMPENSATION_FAILED'
  | 'OPERATOR_RETRY'
  | 'OPERATOR_CANCEL'
  | 'COMPLETED'
  | 'COMPENSATED';

/**
 * One append-only entry of a saga's timeline. Transitions return the entries they add; stores keep
 * them apart from the instance row (history only grows, the instance is rewritten).
 *
 * @example
 * { seq: 2, at, step: 'reserveStock', event: 'COMMAND_SENT', detail: { type: 'ReserveStock', messageId, attempt: 1 } }
 */
export interface HistoryEntry {
  readonly seq: number;
  readonly at: Date;
  readonly step: string;
  readonly event: HistoryEvent;
  readonly detail: Readonly<Record<string, unknown>>;
}

/**
 * A command the caller must publish (in the same transaction that stores the new instance, via an
 * outbox). Its `messageId` is what the participant's reply carries as causation id.
 */
export interface OutgoingCommand {
  readonly messageId: string;
  readonly sagaId: string;
  readonly participant: string;
  readonly type: string;
  readonly payload: unknown;
}

/** A participant's reply as the engine sees it. */
export interface SagaReply {
  readonly type: string;
  /** Message id of the command this answers. */
  readonly causationId: string | null;
  readonly payload: unknown;
  /** The reply's own message id, kept in the history for tracing. */
  readonly messageId?: string;
}

/**
 * Result of every transition. When `ignored` is set nothing changed: `instance` is the input (same
 * version), `commands` and `history` are empty, and the caller should write nothing.
 */
export interface TransitionResult<D = unknown> {
  readonly instance: SagaInstance<D>;
  readonly commands: readonly OutgoingCommand[];
  readonly history: readonly HistoryEntry[];
  readonly ignored?: string;
}
