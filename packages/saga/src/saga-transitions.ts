import { backoffDelay, type RetryPolicy, type SagaDefinition, type SagaFailure, type SagaStep } from './saga-definition';
import type {
  HistoryEntry,
  HistoryEvent,
  OutgoingCommand,
  SagaInstance,
  SagaReply,
  SagaStatus,
  TransitionResult,
} from './saga-instance';
import type { IdGenerator } from './ports/id-generator';

/**
 * The pure orchestration core: each function takes a definition and an instance and returns the
 * next instance, the commands to send and the history entries to append. Nothing is read or
 * written here, so a caller can apply a whole batch of events inside one database transaction.
 *
 * @example
 * const ctx = { now: new Date(), ids: { newId: v7 } };
 * let r = start(def, { sagaId: 'o-1', data, ...ctx });
 * r = onReply(def, r.instance, { type: 'StockReserved', causationId: r.commands[0].messageId, payload }, ctx);
 */
export interface TransitionContext {
  now: Date;
  ids: IdGenerator;
}

/** Failure code of a step that got no reply in time, after its last attempt. */
export const STEP_TIMEOUT = 'STEP_TIMEOUT';
/** Failure code used when a failure reply carries no `code`. */
export const STEP_FAILED = 'STEP_FAILED';
/** How many attempts' message ids stay pending (replies to older attempts are ignored). */
export const MAX_PENDING_IDS = 16;

/**
 * Creates the instance (version 1, RUNNING) and sends the first step's command (the first step
 * that is not `doneAtStart`: the leading ones are done by whoever started the saga).
 *
 * @example
 * const { instance, commands } = start(def, { sagaId: order.id, data, now, ids });
 */
export function start<D>(
  def: SagaDefinition<D>,
  o: { sagaId: string; data: D } & TransitionContext,
): TransitionResult<D> {
  const first = def.steps.find((s) => !s.doneAtStart)!;
  const t = new Transition(def, {
    id: o.sagaId,
    type: def.type,
    definitionVersion: def.version,
    status: 'RUNNING',
    currentStep: first.name,
    attempt: 0,
    data: o.data,
    pendingCommandIds: [],
    deadlineAt: null,
    deadlineKind: null,
    failure: null,
    version: 0,
    historySize: 0,
    createdAt: o.now,
    updatedAt: o.now,
  }, o);
  const doneAtStart = def.steps.slice(0, first.index).map((s) => s.name);
  t.log('STARTED', first.name, doneAtStart.length > 0 ? { doneAtStart } : {});
  t.sendStep(first, 1, false);
  return t.done();
}

/**
 * Applies a participant's reply. A reply that answers no pending command (late, duplicate, or
 * for a finished saga) or whose type the current step does not expect is ignored.
 *
 * @example
 * const r = onReply(def, instance, { type: 'StockReserved', causationId, payload }, { now, ids });
 * if (r.ignored) log.debug(r.ignored);
 */
export function onReply<D>(
  def: SagaDefinition<D>,
  instance: SagaInstance<D>,
  reply: SagaReply,
  ctx: TransitionContext,
): TransitionResult<D> {
  if (reply.causationId === null || !instance.pendingCommandIds.includes(reply.causationId)) {
    return ignore(instance, `${reply.type} answers no pending command of saga ${instance.id} (late or duplicate)`);
  }
  const step = def.step(instance.currentStep);
  const t = new Transition(def, instance, ctx);
  const detail = { type: reply.type, messageId: reply.messageId, causationId: reply.causationId };

  if (instance.status === 'RUNNING') {
    const rule = step.replies.get(reply.type);
    if (!rule) return ignore(instance, `step ${step.name} does not expect ${reply.type}`);
    // A retriable step keeps every attempt pending (a late success still counts), but only the latest
    // attempt's failure decides a re-send: an earlier attempt's (late, duplicated), or one arriving
    // while a re-send is already scheduled, would add an attempt and replace the pending timer.
    if (step.kind === 'retriable' && rule.outcome === 'failure') {
      const latest = instance.pendingCommandIds[instance.pendingCommandIds.length - 1];
      if (reply.causationId !== latest || instance.deadlineKind === 'RESEND') {
        return ignore(instance, `${reply.type} answers an earlier attempt of ${step.name}, or a re-send is already scheduled`);
      }
    }
    if (rule.update) t.s.data = rule.update(t.s.data, reply.payload) as D;
    t.log('REPLY', step.name, { ...detail, outcome: rule.outcome });
    if (rule.outcome === 'success') {
      const next = def.steps[step.index + 1];
      if (next) t.sendStep(next, 1, false);
      else t.finish('COMPLETED');
    } else if (step.kind === 'retriable') {
      t.retryLater(step.retry, () => t.sendStep(step, t.s.attempt + 1, true));
    } else {
      const f = rule.failure ? rule.failure(reply.payload) : failureOf(reply);
      t.fail({ code: f.code, reason: f.reason, step: step.name }, step.index - 1);
    }
    return t.done();
  }

  // COMPENSATING, or COMPENSATION_FAILED whose compensation finally got through.
  if (!step.compensation?.replies.has(reply.type)) {
    return ignore(instance, `compensation of step ${step.name} does not expect ${reply.type}`);
  }
  t.log('COMPENSATION_REPLY', step.name, detail);
  t.compensateFrom(step.index - 1);
  return t.done();
}

/**
 * Fires the durable timer: a re-send whose backoff is over, or an overdue reply (re-send while
 * attempts remain, else fail the step with STEP_TIMEOUT and compensate; for a compensation, after
 * its last attempt the saga becomes COMPENSATION_FAILED). Ignored when the timer is not due.
 *
 * @example
 * for (const due of await store.claimDue(tx, now, 100)) results.push(onTimeout(def, due, { now, ids }));
 */
export function onTimeout<D>(def: SagaDefinition<D>, instance: SagaInstance<D>, ctx: TransitionContext): TransitionResult<D> {
  if (instance.deadlineAt === null) return ignore(instance, `saga ${instance.id} has no timer (${instance.status})`);
  if (instance.deadlineAt.getTime() > ctx.now.getTime()) {
    return ignore(instance, `timer of saga ${instance.id} is due at ${instance.deadlineAt.toISOString()}`);
  }
  const step = def.step(instance.currentStep);
  const t = new Transition(def, instance, ctx);
  const compensating = instance.status === 'COMPENSATING';
  const resend = compensating
    ? () => t.sendCompensation(step, instance.attempt + 1, true)
    : () => t.sendStep(step, instance.attempt + 1, true);

  if (instance.deadlineKind === 'RESEND') {
    resend();
  } else if (!compensating) {
    t.log('TIMEOUT', step.name, { attempt: instance.attempt, timeoutMs: step.timeoutMs });
    if (step.kind === 'retriable' || instance.attempt < step.retry.maxAttempts) {
      t.retryLater(step.retry, resend);
    } else {
      const reason = `${step.name} got no reply within ${step.timeoutMs} ms (${instance.attempt} attempt${instance.attempt === 1 ? '' : 's'})`;
      t.fail({ code: STEP_TIMEOUT, reason, step: step.name }, step.compensateOnTimeout ? step.index : step.index - 1);
    }
  } else {
    const comp = step.compensation!;
    t.log('COMPENSATION_TIMEOUT', step.name, { attempt: instance.attempt, timeoutMs: comp.timeoutMs });
    if (instance.attempt < comp.retry.maxAttempts) {
      t.retryLater(comp.retry, resend);
    } else {
      t.s.status = 'COMPENSATION_FAILED';
      t.stopTimer();
      // pendingCommandIds stay: a compensation reply that arrives later still resumes the saga.
      t.log('COMPENSATION_FAILED', step.name, { attempts: instance.attempt });
    }
  }
  return t.done();
}

/**
 * Operator action for COMPENSATION_FAILED: re-sends the stuck compensation (a new attempt series)
 * and resumes compensating. Ignored for any other status (an HTTP layer answers 409).
 *
 * @example
 * const r = retryCompensation(def, instance, { now, ids });
 * if (r.ignored) throw new AppError(ErrorCode.Conflict, r.ignored);
 */
export function retryCompensation<D>(
  def: SagaDefinition<D>,
  instance: SagaInstance<D>,
  ctx: TransitionContext,
): TransitionResult<D> {
  if (instance.status !== 'COMPENSATION_FAILED') {
    return ignore(instance, `saga ${instance.id} is ${instance.status}; only COMPENSATION_FAILED can be retried`);
  }
  const step = def.step(instance.currentStep);
  const t = new Transition(def, instance, ctx);
  t.log('OPERATOR_RETRY', step.name, {});
  t.sendCompensation(step, 1, true);
  return t.done();
}

/** Failure code of a saga an operator canceled. */
export const CANCELED_BY_OPERATOR = 'CANCELED_BY_OPERATOR';

/**
 * Operator action for a RUNNING step that seems stuck (e.g. waiting out a long deadline): re-sends
 * the step's command now as a new attempt; replies to the earlier attempts still count. Ignored for
 * any other status (an HTTP layer answers 409).
 *
 * @example
 * const r = retryStep(def, instance, { now, ids });
 * if (r.ignored) throw new AppError(ErrorCode.Conflict, r.ignored);
 */
export function retryStep<D>(def: SagaDefinition<D>, instance: SagaInstance<D>, ctx: TransitionContext): TransitionResult<D> {
  if (instance.status !== 'RUNNING') {
    return ignore(instance, `saga ${instance.id} is ${instance.status}; only a RUNNING step can be retried`);
  }
  const step = def.step(instance.currentStep);
  const t = new Transition(def, instance, ctx);
  t.log('OPERATOR_RETRY', step.name, { attempt: instance.attempt + 1 });
  t.sendStep(step, instance.attempt + 1, true);
  return t.done();
}

/**
 * Operator cancel of a saga in flight: the current step fails with {@link CANCELED_BY_OPERATOR} and
 * the saga compensates exactly as after a timeout (a step whose outcome is unknown and that is marked
 * `compensateOnTimeout`, or a pivot with `onUnknownOutcome`, is undone too; late replies to it are
 * ignored). Refused once the saga is past its pivot (at a retriable step: the pivot succeeded and the
 * saga must complete) and for a saga that is not RUNNING.
 *
 * @example
 * const r = cancel(def, instance, { now, ids }, 'customer called');
 * if (r.ignored) throw new AppError(ErrorCode.Conflict, r.ignored);
 */
export function cancel<D>(def: SagaDefinition<D>, instance: SagaInstance<D>, ctx: TransitionContext, reason?: string): TransitionResult<D> {
  if (instance.status !== 'RUNNING') {
    return ignore(instance, `saga ${instance.id} is ${instance.status}; only a RUNNING saga can be canceled`);
  }
  const step = def.step(instance.currentStep);
  if (step.kind === 'retriable') {
    return ignore(instance, `saga ${instance.id} is past its pivot (step ${step.name}): it can only complete`);
  }
  const t = new Transition(def, instance, ctx);
  t.log('OPERATOR_CANCEL', step.name, { attempt: instance.attempt });
  t.fail(
    { code: CANCELED_BY_OPERATOR, reason: reason ?? `canceled by an operator during ${step.name}`, step: step.name },
    step.compensateOnTimeout ? step.index : step.index - 1,
  );
  return t.done();
}

function ignore<D>(instance: SagaInstance<D>, reason: string): TransitionResult<D> {
  return { instance, commands: [], history: [], ignored: reason };
}

function failureOf(reply: SagaReply): { code: string; reason: string } {
  const p = (reply.payload ?? {}) as { code?: unknown; reason?: unknown };
  return {
    code: typeof p.code === 'string' ? p.code : STEP_FAILED,
    reason: typeof p.reason === 'string' ? p.reason : reply.type,
  };
}

type Draft<D> = { -readonly [K in keyof SagaInstance<D>]: SagaInstance<D>[K] };

/** Accumulates one transition: a mutable draft, the commands sent and the history appended. */
class Transition<D> {
  readonly s: Draft<D>;
  private readonly commands: OutgoingCommand[] = [];
  private readonly history: HistoryEntry[] = [];

  constructor(
    private readonly def: SagaDefinition<D>,
    private readonly base: SagaInstance<D>,
    private readonly ctx: TransitionContext,
  ) {
    // An instance is only ever advanced by the definition version it started on.
    if (def.type !== base.type || def.version !== base.definitionVersion) {
      throw new Error(`saga ${base.id} is ${base.type} v${base.definitionVersion}; it cannot be advanced by ${def.type} v${def.version}`);
    }
    this.s = { ...base };
  }

  log(event: HistoryEvent, step: string, detail: Record<string, unknown>): void {
    this.history.push({ seq: this.base.historySize + this.history.length + 1, at: this.ctx.now, step, event, detail });
  }

  /** Sends a step's command; `keepPending` keeps earlier attempts' ids so their late replies still count. */
  sendStep(step: SagaStep<D>, attempt: number, keepPending: boolean): void {
    const id = this.emit(step.invoke(this.s.data));
    this.await(step, attempt, id, keepPending, step.timeoutMs);
    this.s.status = 'RUNNING';
    const last = this.commands[this.commands.length - 1];
    this.log(attempt === 1 ? 'COMMAND_SENT' : 'RETRY', step.name, { type: last.type, messageId: id, attempt });
  }

  sendCompensation(step: SagaStep<D>, attempt: number, keepPending: boolean): void {
    const comp = step.compensation!;
    const id = this.emit(comp.command(this.s.data, this.s.failure!));
    this.await(step, attempt, id, keepPending, comp.timeoutMs);
    this.s.status = 'COMPENSATING';
    const last = this.commands[this.commands.length - 1];
    this.log(attempt === 1 ? 'COMPENSATION_SENT' : 'COMPENSATION_RETRY', step.name, { type: last.type, messageId: id, attempt });
  }

  /** Waits `backoffDelay` before `resend`; with no backoff re-sends at once. */
  retryLater(policy: RetryPolicy, resend: () => void): void {
    const delay = backoffDelay(policy, this.s.attempt);
    if (delay <= 0) return resend();
    this.s.deadlineAt = new Date(this.ctx.now.getTime() + delay);
    this.s.deadlineKind = 'RESEND';
    this.log('RETRY_SCHEDULED', this.s.currentStep, { nextAttempt: this.s.attempt + 1, at: this.s.deadlineAt });
  }

  /** Records the failure and compensates the steps at index `fromIndex` and below, newest first. */
  fail(failure: SagaFailure, fromIndex: number): void {
    this.s.failure = failure;
    this.log('STEP_FAILED', failure.step, { code: failure.code, reason: failure.reason });
    this.compensateFrom(fromIndex);
  }

  compensateFrom(fromIndex: number): void {
    for (let i = fromIndex; i >= 0; i--) {
      const step = this.def.steps[i];
      if (step.compensation) return this.sendCompensation(step, 1, false);
    }
    this.finish('COMPENSATED');
  }

  finish(status: Extract<SagaStatus, 'COMPLETED' | 'COMPENSATED'>): void {
    this.s.status = status;
    this.s.pendingCommandIds = [];
    this.stopTimer();
    this.log(status, this.s.currentStep, {});
  }

  stopTimer(): void {
    this.s.deadlineAt = null;
    this.s.deadlineKind = null;
  }

  done(): TransitionResult<D> {
    const instance: SagaInstance<D> = {
      ...this.s,
      version: this.base.version + 1,
      historySize: this.base.historySize + this.history.length,
      updatedAt: this.ctx.now,
    };
    return { instance, commands: this.commands, history: this.history };
  }

  private emit(command: { participant: string; type: string; payload: unknown }): string {
    const messageId = this.ctx.ids.newId();
    this.commands.push({
      messageId,
      sagaId: this.s.id,
      participant: command.participant,
      type: command.type,
      payload: command.payload,
    });
    return messageId;
  }

  private await(step: SagaStep<D>, attempt: number, id: string, keepPending: boolean, timeoutMs: number): void {
    this.s.currentStep = step.name;
    this.s.attempt = attempt;
    // Bounded: a retriable step may be re-sent for hours; very old attempts' replies may be dropped.
    this.s.pendingCommandIds = keepPending ? [...this.s.pendingCommandIds, id].slice(-MAX_PENDING_IDS) : [id];
    this.s.deadlineAt = new Date(this.ctx.now.getTime() + timeoutMs);
    this.s.deadlineKind = 'REPLY';
  }
}
