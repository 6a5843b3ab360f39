import type { InMemorySagaStore } from '../in-memory/in-memory-saga-store';
import type { SagaDefinition, SagaStep } from '../saga-definition';
import type { SagaEvent, SagaEventOutcome } from '../saga-engine';
import type { HistoryEntry, HistoryEvent, OutgoingCommand, SagaInstance, SagaReply, SagaStatus } from '../saga-instance';
import { CANCELED_BY_OPERATOR, MAX_PENDING_IDS, STEP_TIMEOUT } from '../saga-transitions';
import { FAILURE_CODE, parseMessageType, type SimData } from './simulated-sagas';

/**
 * Which invariant a violation breaks, so a run can tell a known engine issue from a new one:
 * - `versions`: +1 per applied transition, chained without gaps, each with history;
 * - `one-command`: at most one command per transition; `message-ids`: every message id new;
 * - `commands`: a command is the current step's, in step order, at the right attempt and timer, sent
 *   only after the previous step completed, re-sent only on a timer, an operator retry or a failure;
 * - `stale-retry`: no re-send decided on a reply to an earlier attempt while the latest one is outstanding;
 * - `replies`: an applied reply answers a pending send with its type; an awaited one is never ignored;
 *   an ignored event changes nothing;
 * - `failure`: a saga fails only on a failure reply, a last-attempt timeout or a cancel before the pivot;
 * - `compensation`: newest first, one at a time, only for completed (or unknown-outcome) steps, all of them;
 * - `state`: pending ids, timers and data agree with what was sent and applied;
 * - `history`: numbered, timed, agrees with sends and statuses; `rollback`: a crash leaves the store as it was;
 * - `termination`: every saga ends COMPLETED or COMPENSATED, and nothing changes it afterwards;
 * - `engine-error`: the engine threw (other than a simulated crash).
 */
export type InvariantRule =
  | 'versions'
  | 'one-command'
  | 'message-ids'
  | 'commands'
  | 'stale-retry'
  | 'replies'
  | 'failure'
  | 'compensation'
  | 'state'
  | 'history'
  | 'rollback'
  | 'termination'
  | 'engine-error';

/** A broken invariant: the rule, and a sentence naming the saga, its version and the virtual time. */
export interface Violation {
  readonly rule: InvariantRule;
  readonly text: string;
}

/** How a check reports a violation of the saga it is looking at. */
type Report = (rule: InvariantRule, message: string) => void;

/** A command the engine committed, with the step and role its type names (not what the engine says). */
export interface CommandRecord {
  readonly command: OutgoingCommand;
  readonly step: string;
  readonly role: 'invoke' | 'undo';
}

/** One applied (not ignored), committed transition. */
export interface AppliedTransition {
  readonly event: SagaEvent;
  readonly previous: SagaInstance | null;
  readonly instance: SagaInstance;
  readonly commands: readonly OutgoingCommand[];
  /** Virtual time of the unit of work, in ms. */
  readonly at: number;
}

/** Committed state of the store, to check that a crashed unit of work left it untouched. */
export type StoreSnapshot = ReadonlyMap<string, { readonly instance: SagaInstance; readonly historySize: number }>;

/**
 * Everything the checker knows of one saga, built only from what was committed: the world's own
 * record of which replies were applied, not the engine's history.
 */
interface SagaLedger {
  readonly def: SagaDefinition<SimData>;
  readonly transitions: AppliedTransition[];
  last: SagaInstance | null;
  /** Steps whose success reply was applied, in order (doneAtStart steps are not listed). */
  readonly done: string[];
  /** Message ids sent per `role:step`, in order. */
  readonly series: Map<string, string[]>;
  failure: { readonly step: string; readonly cause: SagaEvent['kind'] } | null;
  /** Steps that may be compensated, fixed when the saga fails. */
  eligible: ReadonlySet<string>;
  /** Compensations not started yet, newest step first. */
  queue: string[];
  /** The step whose compensation was started last. */
  compensating: string | null;
  /** Sends of the current compensation since it (or an operator retry) started. */
  compensationSends: number;
  /** Steps whose compensation reply was applied. */
  readonly acked: string[];
}

/** What the transition being checked did with a reply. */
interface ReplyEffect {
  readonly kind: 'done' | 'failed' | 'undone' | 'none';
  readonly step: string | null;
}

const ENDED: readonly SagaStatus[] = ['COMPLETED', 'COMPENSATED'];
const SENDS: ReadonlySet<HistoryEvent> = new Set(['COMMAND_SENT', 'RETRY', 'COMPENSATION_SENT', 'COMPENSATION_RETRY']);

/**
 * The engine's invariants, checked on every committed unit of work and once more at the end of a
 * seed. A violation is a sentence naming the saga, its version and the virtual time.
 *
 * Checked: versions go up by exactly 1 per applied transition and chain without gaps; at most one
 * command per transition, every message id new; a step is sent only after the previous one
 * completed, re-sent only on its timer, an operator retry, or a failure of its latest attempt;
 * attempts count 1, 2, 3… (restarting only on an operator's compensation retry); pending ids are
 * exactly the current step's sends; timers match the definition; a failure is only a failure reply,
 * a last-attempt timeout or a cancel before the pivot; compensations run newest first, one at a
 * time, each after the previous one's reply, and only for steps that completed (or that timed out or
 * were canceled and are compensateOnTimeout); an ignored event changes nothing and a reply the saga
 * awaits is never ignored; the saga data saw each success once; history is numbered, timed and
 * agrees with the commands and statuses; a crashed unit of work leaves the store as it was; every
 * saga ends COMPLETED or COMPENSATED.
 *
 * @example
 * const invariants = new EngineInvariants((type) => definitions.get(type)!);
 * invariants.committed(outcomes, now);
 * invariants.finished(store, ['s1', 's2']);
 * invariants.violations; // [] when all is well
 */
export class EngineInvariants {
  readonly violations: Violation[] = [];
  private readonly ledgers = new Map<string, SagaLedger>();
  private readonly commands = new Map<string, CommandRecord>();

  constructor(private readonly definitionOf: (type: string) => SagaDefinition<SimData>) {}

  /** The applied transitions of a saga so far. */
  transitionsOf(sagaId: string): readonly AppliedTransition[] {
    return this.ledgers.get(sagaId)?.transitions ?? [];
  }

  /** Whether a start of this saga was committed. */
  knows(sagaId: string): boolean {
    return this.ledgers.has(sagaId);
  }

  /** The command with this message id, if the engine committed one. */
  command(messageId: string): CommandRecord | undefined {
    return this.commands.get(messageId);
  }

  /** Checks the outcomes of one committed unit of work, in order. */
  committed(outcomes: readonly SagaEventOutcome[], at: number): void {
    for (const o of outcomes) {
      if (o.ignored !== undefined) this.ignored(o, at);
      else if (o.instance === null) this.violate('replies', o.event.sagaId, null, at, `applied a ${o.event.kind} without an instance`);
      else if (o.instance === o.previous) {
        // e.g. parked: every simulated definition is registered, so an event must be applied or ignored
        const extra = Object.entries(o).filter(([k]) => !['event', 'instance', 'previous', 'commands', 'ignored'].includes(k));
        this.violate('replies', o.event.sagaId, o.instance.version, at, `a ${o.event.kind} was neither applied nor ignored (${JSON.stringify(Object.fromEntries(extra))})`);
      }
      else this.applied(o, o.instance, at);
    }
  }

  /** A unit of work crashed: the committed state must be what it was before it. */
  rolledBack(before: StoreSnapshot, after: StoreSnapshot, at: number, what: string): void {
    const ids = new Set([...before.keys(), ...after.keys()]);
    for (const id of ids) {
      const b = before.get(id);
      const a = after.get(id);
      if (b?.instance !== a?.instance || b?.historySize !== a?.historySize) {
        this.violate('rollback', id, a?.instance.version ?? null, at, `${what} crashed but the store changed (version ${b?.instance.version} → ${a?.instance.version}, history ${b?.historySize} → ${a?.historySize})`);
      }
    }
  }

  /** End of a seed: every planned saga ended, and store and history agree with what was applied. */
  finished(store: InMemorySagaStore, sagaIds: readonly string[], at: number): void {
    for (const id of sagaIds) {
      const ledger = this.ledgers.get(id);
      const stored = store.get(id);
      if (!ledger || !stored) {
        this.violate('termination', id, null, at, 'never started');
        continue;
      }
      if (ledger.last === null || !sameVersion(stored, ledger.last)) {
        this.violate('versions', id, stored.version, at, `the store holds version ${stored.version}, the last applied transition made ${ledger.last?.version}`);
      }
      if (!ENDED.includes(stored.status)) {
        this.violate('termination', id, stored.version, at, `did not end: ${stored.status} at ${stored.currentStep} (attempt ${stored.attempt}) after the drain`);
      }
      this.checkHistory(ledger, store.history(id), stored, at);
    }
  }

  private ignored(o: SagaEventOutcome, at: number): void {
    const id = o.event.sagaId;
    if (o.commands.length > 0) this.violate('replies', id, o.instance?.version ?? null, at, `an ignored ${o.event.kind} sent ${o.commands.length} command(s)`);
    if (o.instance !== o.previous) {
      this.violate('replies', id, o.instance?.version ?? null, at, `an ignored ${o.event.kind} changed the instance`);
    }
    if (o.instance === null && this.ledgers.has(id)) this.violate('replies', id, null, at, `a ${o.event.kind} found no saga, but its start was committed`);
    const instance = o.instance;
    if (o.event.kind === 'reply' && instance !== null && this.awaits(instance, o.event.reply)) {
      this.violate('replies', id, instance.version, at, `ignored ${o.event.reply.type} (${o.event.reply.causationId}), a reply it awaits: ${o.ignored}`);
    }
  }

  /** The saga is waiting for exactly this reply: it answers a pending send with a type the step expects. */
  private awaits(instance: SagaInstance, reply: SagaReply): boolean {
    if (reply.causationId === null || !instance.pendingCommandIds.includes(reply.causationId)) return false;
    const sent = this.commands.get(reply.causationId);
    const parsed = parseMessageType(reply.type);
    if (!sent || !parsed || parsed.step !== sent.step || sent.step !== instance.currentStep) return false;
    if (instance.status === 'RUNNING') {
      if (sent.role !== 'invoke' || (parsed.role !== 'done' && parsed.role !== 'failed')) return false;
      // A retriable step's failure decides a re-send only for its latest attempt, and only once.
      const retriable = this.definitionOf(instance.type).step(instance.currentStep).kind === 'retriable';
      if (retriable && parsed.role === 'failed') return reply.causationId === instance.pendingCommandIds.at(-1) && instance.deadlineKind !== 'RESEND';
      return true;
    }
    if (instance.status === 'COMPENSATING' || instance.status === 'COMPENSATION_FAILED') return sent.role === 'undo' && parsed.role === 'undone';
    return false;
  }

  private applied(o: SagaEventOutcome, instance: SagaInstance, at: number): void {
    const id = instance.id;
    const v = (rule: InvariantRule, message: string): void => this.violate(rule, id, instance.version, at, message);
    const ledger = this.ledgerFor(instance);
    const prev = o.previous;

    if (prev === null) {
      if (o.event.kind !== 'start') v('versions', `a ${o.event.kind} created the saga`);
      if (ledger.last !== null) v('versions', 'started a second time');
    } else if (ledger.last === null || !sameVersion(prev, ledger.last)) {
      v('versions', `transition from version ${prev.version}, but the last applied one made version ${ledger.last?.version}`);
    }
    if (instance.version !== (prev?.version ?? 0) + 1) v('versions', `version ${prev?.version ?? 0} → ${instance.version} in one transition (must be +1)`);
    if (prev !== null && ENDED.includes(prev.status)) v('termination', `a ${o.event.kind} changed a saga that had ended ${prev.status}`);
    if (instance.historySize <= (prev?.historySize ?? 0)) v('versions', `a ${o.event.kind} was applied without a history entry`);
    if (o.commands.length > 1) v('one-command', `one transition sent ${o.commands.length} commands (${o.commands.map((c) => c.type).join(', ')})`);
    if (o.event.kind === 'timeout' && prev !== null && (prev.deadlineAt === null || prev.deadlineAt.getTime() > at)) {
      v('state', `a timer fired that was not due (${prev.deadlineAt?.toISOString() ?? 'none'})`);
    }

    const effect = o.event.kind === 'reply' && prev !== null ? this.appliedReply(ledger, prev, o.event.reply, v) : { kind: 'none' as const, step: null };
    if (prev?.status === 'RUNNING' && instance.status !== 'RUNNING' && instance.status !== 'COMPLETED') {
      this.failed(ledger, o.event, prev, instance, effect, v);
    }
    for (const c of o.commands) this.sent(ledger, o.event, prev, instance, c, effect, at, v);
    this.progressed(ledger, instance, o.commands, effect, v);
    if (prev !== null && prev.status === 'RUNNING' && instance.status === 'RUNNING') this.resendDecision(ledger, o.event, prev, instance, o.commands, v);
    this.checkState(ledger, instance, o.commands, at, v);

    ledger.transitions.push({ event: o.event, previous: prev, instance, commands: o.commands, at });
    ledger.last = instance;
  }

  /** An applied reply: it must answer a pending send of the current step with a type of that step's role. */
  private appliedReply(ledger: SagaLedger, prev: SagaInstance, reply: SagaReply, v: Report): ReplyEffect {
    const none: ReplyEffect = { kind: 'none', step: null };
    const sent = reply.causationId === null ? undefined : this.commands.get(reply.causationId);
    if (!sent || reply.causationId === null || !prev.pendingCommandIds.includes(reply.causationId)) {
      v('replies', `applied ${reply.type}, which answers no pending command (${reply.causationId})`);
      return none;
    }
    const parsed = parseMessageType(reply.type);
    if (sent.step !== prev.currentStep || parsed?.step !== sent.step) {
      v('replies', `applied ${reply.type} to ${sent.command.type} while at step ${prev.currentStep}`);
      return none;
    }
    if (prev.status === 'RUNNING' && sent.role === 'invoke' && (parsed.role === 'done' || parsed.role === 'failed')) {
      if (parsed.role === 'failed') return { kind: 'failed', step: sent.step };
      if (ledger.done.includes(sent.step)) v('replies', `step ${sent.step} completed twice`);
      ledger.done.push(sent.step);
      return { kind: 'done', step: sent.step };
    }
    if ((prev.status === 'COMPENSATING' || prev.status === 'COMPENSATION_FAILED') && sent.role === 'undo' && parsed.role === 'undone') {
      if (ledger.compensating !== sent.step) v('replies', `applied ${reply.type} while compensating ${ledger.compensating}`);
      if (ledger.acked.includes(sent.step)) v('replies', `compensation of ${sent.step} completed twice`);
      ledger.acked.push(sent.step);
      return { kind: 'undone', step: sent.step };
    }
    v('replies', `applied ${reply.type} (to ${sent.command.type}) in status ${prev.status}`);
    return none;
  }

  /** The saga left RUNNING for compensation: check why, and fix which steps may be compensated. */
  private failed(
    ledger: SagaLedger,
    event: SagaEvent,
    prev: SagaInstance,
    instance: SagaInstance,
    effect: ReplyEffect,
    v: Report,
  ): void {
    const step = ledger.def.step(prev.currentStep);
    if (ledger.failure !== null) v('failure', `failed a second time (at ${step.name}; first at ${ledger.failure.step})`);
    let code: string | null = null;
    switch (event.kind) {
      case 'reply':
        if (effect.kind !== 'failed' || step.kind === 'retriable') v('failure', `failed at ${step.name} on ${event.reply.type}`);
        code = FAILURE_CODE(step.name);
        break;
      case 'timeout':
        if (step.kind === 'retriable') v('failure', `the retriable step ${step.name} failed on a timeout`);
        if (prev.deadlineKind !== 'REPLY' || prev.attempt < step.retry.maxAttempts) {
          v('failure', `${step.name} failed on a ${prev.deadlineKind} timer at attempt ${prev.attempt} of ${step.retry.maxAttempts}`);
        }
        code = STEP_TIMEOUT;
        break;
      case 'cancel':
        if (step.kind === 'retriable') v('failure', `canceled past the pivot, at ${step.name}`);
        code = CANCELED_BY_OPERATOR;
        break;
      default:
        v('failure', `failed at ${step.name} on a ${event.kind}`);
    }
    if (instance.failure?.step !== step.name || (code !== null && instance.failure.code !== code)) {
      v('failure', `failure ${JSON.stringify(instance.failure)} after a ${event.kind} at ${step.name} (expected code ${code})`);
    }
    const outcomeUnknown = event.kind === 'timeout' || event.kind === 'cancel';
    const eligible = new Set([...this.doneAtStart(ledger.def), ...ledger.done]);
    if (outcomeUnknown && step.compensateOnTimeout) eligible.add(step.name);
    ledger.failure = { step: step.name, cause: event.kind };
    ledger.eligible = eligible;
    ledger.queue = ledger.def.steps
      .filter((s) => s.compensation !== null && eligible.has(s.name))
      .reverse()
      .map((s) => s.name);
  }

  /** One committed command: new id, right step and role, right attempt, sent for a good reason. */
  private sent(
    ledger: SagaLedger,
    event: SagaEvent,
    prev: SagaInstance | null,
    instance: SagaInstance,
    c: OutgoingCommand,
    effect: ReplyEffect,
    at: number,
    v: Report,
  ): void {
    const parsed = parseMessageType(c.type);
    if (!parsed || (parsed.role !== 'invoke' && parsed.role !== 'undo')) {
      v('commands', `sent ${c.type}, which is no command of ${ledger.def.type}`);
      return;
    }
    const earlier = this.commands.get(c.messageId);
    if (earlier) v('message-ids', `message id ${c.messageId} sent twice (${earlier.command.sagaId} ${earlier.command.type}, now ${c.type})`);
    else this.commands.set(c.messageId, { command: c, step: parsed.step, role: parsed.role });
    if (c.sagaId !== instance.id) v('commands', `sent ${c.type} for saga ${c.sagaId}`);
    if (instance.currentStep !== parsed.step) v('commands', `sent ${c.type} but the current step is ${instance.currentStep}`);
    if (!instance.pendingCommandIds.includes(c.messageId)) v('commands', `sent ${c.type} (${c.messageId}) without awaiting its reply`);
    const step = ledger.def.step(parsed.step);
    const key = `${parsed.role}:${step.name}`;
    const ids = ledger.series.get(key) ?? [];
    let attempt: number;

    if (parsed.role === 'invoke') {
      if (instance.status !== 'RUNNING') v('commands', `sent ${c.type} in status ${instance.status}`);
      if (ledger.failure !== null) v('commands', `sent ${c.type} after the saga failed at ${ledger.failure.step}`);
      if (ids.length === 0) {
        const first = ledger.def.steps.find((s) => !s.doneAtStart);
        const ok =
          event.kind === 'start' ? step === first : effect.kind === 'done' && ledger.def.steps[step.index - 1]?.name === effect.step;
        if (!ok) v('commands', `sent ${step.name} on a ${event.kind}${effect.step ? ` (${effect.kind} ${effect.step})` : ''}, not right after the previous step completed`);
        if (ledger.done.includes(step.name)) v('commands', `sent ${step.name}, which had completed`);
      } else {
        const ok =
          prev?.status === 'RUNNING' &&
          prev.currentStep === step.name &&
          (event.kind === 'timeout' ||
            event.kind === 'retryStep' ||
            // which attempt the failure answered is the stale-retry rule's business
            (event.kind === 'reply' && effect.kind === 'failed' && step.kind === 'retriable'));
        if (!ok) v('commands', `re-sent ${step.name} on a ${event.kind}${event.kind === 'reply' ? ` ${event.reply.type}` : ''}`);
      }
      attempt = ids.length + 1;
    } else {
      if (instance.status !== 'COMPENSATING') v('compensation', `sent ${c.type} in status ${instance.status}`);
      if (ledger.failure === null) v('compensation', `compensates ${step.name} but the saga never failed`);
      else if (!ledger.eligible.has(step.name)) {
        v('compensation', `compensates ${step.name}, which never completed (failed at ${ledger.failure.step} on a ${ledger.failure.cause}; completed: ${[...ledger.eligible].join(', ') || 'none'})`);
      }
      if (ledger.compensating !== step.name) {
        if (ledger.eligible.has(step.name) && ledger.queue[0] !== step.name) {
          v('compensation', `compensates ${step.name} out of order (next due: ${ledger.queue[0] ?? 'none'})`);
        }
        const previousDone = ledger.compensating === null ? prev?.status === 'RUNNING' : effect.kind === 'undone' && effect.step === ledger.compensating;
        if (!previousDone) v('compensation', `started compensating ${step.name} on a ${event.kind} before the compensation of ${ledger.compensating ?? 'the failure'} ended`);
        ledger.queue = ledger.queue.filter((s) => s !== step.name);
        ledger.compensating = step.name;
        ledger.compensationSends = 0;
      } else if (event.kind === 'retryCompensation') {
        if (prev?.status !== 'COMPENSATION_FAILED') v('compensation', `operator retry of a compensation in status ${prev?.status}`);
        ledger.compensationSends = 0;
      } else if (event.kind !== 'timeout') {
        v('compensation', `re-sent ${c.type} on a ${event.kind}`);
      }
      attempt = ++ledger.compensationSends;
    }
    if (instance.attempt !== attempt) v('commands', `sent ${c.type} as attempt ${instance.attempt}, expected ${attempt}`);
    const timeoutMs = parsed.role === 'invoke' ? step.timeoutMs : (step.compensation?.timeoutMs ?? NaN);
    if (instance.deadlineKind !== 'REPLY' || instance.deadlineAt?.getTime() !== at + timeoutMs) {
      v('commands', `sent ${c.type} with timer ${instance.deadlineKind} ${instance.deadlineAt?.toISOString()}, expected REPLY in ${timeoutMs} ms`);
    }
    ids.push(c.messageId);
    ledger.series.set(key, ids);
  }

  /** After an applied reply the saga moves on: next step, completion, retry, or next compensation. */
  private progressed(ledger: SagaLedger, instance: SagaInstance, commands: readonly OutgoingCommand[], effect: ReplyEffect, v: Report): void {
    if (effect.kind === 'done' && effect.step !== null) {
      const next = ledger.def.steps[ledger.def.step(effect.step).index + 1];
      const ok = next ? commands.length === 1 && parseMessageType(commands[0].type)?.step === next.name : instance.status === 'COMPLETED';
      if (!ok) v('commands', `after ${effect.step} completed: ${instance.status}, sent ${commands.map((c) => c.type).join(', ') || 'nothing'}`);
    }
    if (effect.kind === 'failed' && effect.step !== null && ledger.def.step(effect.step).kind === 'retriable') {
      const ok = instance.status === 'RUNNING' && (commands.length === 1 || instance.deadlineKind === 'RESEND');
      if (!ok) v('commands', `after ${effect.step} (retriable) failed: ${instance.status}, timer ${instance.deadlineKind}, sent ${commands.length}`);
    }
    if (effect.kind === 'undone') {
      // the next compensation was checked as it was sent; with none left the saga is COMPENSATED (checked below)
      const ok = commands.length === 1 ? instance.status === 'COMPENSATING' : instance.status === 'COMPENSATED';
      if (!ok) v('compensation', `after the compensation of ${effect.step}: ${instance.status}, sent ${commands.length}`);
    }
    if (instance.status === 'COMPENSATED') {
      if (ledger.queue.length > 0) v('compensation', `COMPENSATED without compensating ${ledger.queue.join(', ')}`);
      const unacked = ledger.def.steps.filter((s) => s.compensation && ledger.eligible.has(s.name) && !ledger.acked.includes(s.name));
      if (unacked.length > 0) v('compensation', `COMPENSATED before ${unacked.map((s) => s.name).join(', ')} confirmed its compensation`);
    }
    if (instance.status === 'COMPLETED') {
      const missing = ledger.def.steps.filter((s) => !s.doneAtStart && !ledger.done.includes(s.name));
      if (missing.length > 0) v('state', `COMPLETED but ${missing.map((s) => s.name).join(', ')} never completed`);
      if (ledger.failure !== null || instance.failure !== null) v('state', 'COMPLETED after failing');
    }
  }

  /**
   * A RUNNING step is re-sent (at once or after a backoff) only because its latest attempt failed or
   * timed out, or an operator asked: a stale reply to an earlier attempt must not add an attempt
   * while the latest one is still outstanding.
   */
  private resendDecision(
    ledger: SagaLedger,
    event: SagaEvent,
    prev: SagaInstance,
    instance: SagaInstance,
    commands: readonly OutgoingCommand[],
    v: Report,
  ): void {
    if (event.kind === 'retryStep' || instance.currentStep !== prev.currentStep) return;
    const scheduled = instance.deadlineKind === 'RESEND' && (prev.deadlineKind !== 'RESEND' || prev.deadlineAt?.getTime() !== instance.deadlineAt?.getTime());
    const sentNow = commands.length > 0;
    if (!scheduled && !sentNow) return;
    if (event.kind === 'timeout' && (prev.deadlineKind === 'REPLY' || (prev.deadlineKind === 'RESEND' && sentNow && !scheduled))) return;
    if (event.kind === 'reply') {
      const ids = ledger.series.get(`invoke:${prev.currentStep}`) ?? [];
      // the command just sent (if any) is already in the series: the latest attempt before it is the one that counts
      const latest = ids[ids.length - 1 - commands.length];
      if (event.reply.causationId === latest) return;
      const stale = this.commands.get(event.reply.causationId ?? '');
      v('stale-retry', `${sentNow ? 're-sent' : 'scheduled a re-send of'} ${prev.currentStep} on ${event.reply.type} to an earlier attempt (${stale?.command.messageId}) while attempt ${prev.attempt} (${latest}) was still outstanding`);
      return;
    }
    v('commands', `${sentNow ? 're-sent' : 'scheduled a re-send of'} ${prev.currentStep} on a ${event.kind} (timer was ${prev.deadlineKind})`);
  }

  /** Pending ids, timer and data agree with what was sent and applied. */
  private checkState(ledger: SagaLedger, instance: SagaInstance, commands: readonly OutgoingCommand[], at: number, v: Report): void {
    const status = instance.status;
    const role = status === 'RUNNING' ? 'invoke' : status === 'COMPENSATING' || status === 'COMPENSATION_FAILED' ? 'undo' : null;
    const expected = role === null ? [] : (ledger.series.get(`${role}:${instance.currentStep}`) ?? []).slice(-MAX_PENDING_IDS);
    if (instance.pendingCommandIds.join() !== expected.join()) {
      v('state', `pending ids [${instance.pendingCommandIds.join(', ')}] but ${instance.currentStep} sent [${expected.join(', ')}] (${status})`);
    }
    const timed = status === 'RUNNING' || status === 'COMPENSATING';
    if (timed !== (instance.deadlineAt !== null) || timed !== (instance.deadlineKind !== null)) {
      v('state', `${status} with timer ${instance.deadlineKind} ${instance.deadlineAt?.toISOString() ?? 'none'}`);
    } else if (instance.deadlineAt !== null && instance.deadlineAt.getTime() <= at) {
      v('state', `timer set in the past (${instance.deadlineAt.toISOString()})`);
    }
    if (instance.deadlineKind === 'RESEND' && commands.length === 0) {
      const step = ledger.def.step(instance.currentStep);
      const policy = status === 'RUNNING' ? step.retry : step.compensation?.retry;
      const delay = instance.deadlineAt!.getTime() - at;
      if (!policy || delay <= 0 || delay > (policy.maxBackoffMs ?? 60_000)) v('state', `re-send scheduled in ${delay} ms`);
    }
    const data = instance.data as Partial<SimData> | null;
    if (!Array.isArray(data?.doneSteps) || data.doneSteps.join() !== ledger.done.join()) {
      v('state', `data saw the successes [${data?.doneSteps?.join(', ')}], the applied replies were [${ledger.done.join(', ')}]`);
    }
  }

  /** History: numbered 1..n, n = historySize, each transition's slice timed and agreeing with it. */
  private checkHistory(ledger: SagaLedger, history: readonly HistoryEntry[], stored: SagaInstance, at: number): void {
    const v = (rule: InvariantRule, message: string): void => this.violate(rule, stored.id, stored.version, at, message);
    if (history.length !== stored.historySize) v('history', `history has ${history.length} entries, historySize is ${stored.historySize}`);
    history.forEach((h, i) => {
      if (h.seq !== i + 1) v('history', `history entry ${i + 1} has seq ${h.seq}`);
    });
    if (history[0]?.event !== 'STARTED') v('history', `history starts with ${history[0]?.event}`);
    let status: SagaStatus = 'RUNNING';
    let failures = 0;
    for (const t of ledger.transitions) {
      const from = t.previous?.historySize ?? 0;
      const slice = history.slice(from, t.instance.historySize);
      const what = `the ${t.event.kind} at version ${t.instance.version}`;
      if (slice.length === 0) v('history', `no history for ${what}`);
      if (slice.some((h) => h.at.getTime() !== t.at)) v('history', `history of ${what} is not timed at its transition`);
      const sent = slice.filter((h) => SENDS.has(h.event)).map((h) => String(h.detail.messageId));
      if (sent.join() !== t.commands.map((c) => c.messageId).join()) {
        v('history', `history of ${what} records sends [${sent.join(', ')}], the transition sent [${t.commands.map((c) => c.messageId).join(', ')}]`);
      }
      for (const h of slice) {
        status = statusAfter(status, h.event);
        if (h.event === 'STEP_FAILED') failures++;
      }
      if (status !== t.instance.status) v('history', `history of ${what} leads to ${status}, the instance is ${t.instance.status}`);
    }
    if (failures > 1) v('history', `${failures} STEP_FAILED entries`);
    const last = history[history.length - 1]?.event;
    if (ENDED.includes(stored.status) && last !== stored.status) v('history', `${stored.status} but the history ends with ${last}`);
  }

  private ledgerFor(instance: SagaInstance): SagaLedger {
    let ledger = this.ledgers.get(instance.id);
    if (!ledger) {
      ledger = {
        def: this.definitionOf(instance.type),
        transitions: [],
        last: null,
        done: [],
        series: new Map(),
        failure: null,
        eligible: new Set(),
        queue: [],
        compensating: null,
        compensationSends: 0,
        acked: [],
      };
      this.ledgers.set(instance.id, ledger);
    }
    return ledger;
  }

  private doneAtStart(def: SagaDefinition<SimData>): string[] {
    return def.steps.filter((s: SagaStep<SimData>) => s.doneAtStart).map((s) => s.name);
  }

  private violate(rule: InvariantRule, sagaId: string, version: number | null, at: number, message: string): void {
    this.violations.push({ rule, text: `${sagaId}${version === null ? '' : ` v${version}`} @${formatTime(at)}: ${message}` });
  }
}

/** Same committed state: version, history and status (stores may hand back copies). */
function sameVersion(a: SagaInstance, b: SagaInstance): boolean {
  return a.version === b.version && a.historySize === b.historySize && a.status === b.status;
}

/** The status a history entry leaves the saga in. */
function statusAfter(status: SagaStatus, event: HistoryEvent): SagaStatus {
  switch (event) {
    case 'STARTED':
    case 'COMMAND_SENT':
    case 'RETRY':
      return 'RUNNING';
    case 'COMPENSATION_SENT':
    case 'COMPENSATION_RETRY':
      return 'COMPENSATING';
    case 'COMPENSATION_FAILED':
    case 'COMPLETED':
    case 'COMPENSATED':
      return event;
    default:
      return status;
  }
}

/** Virtual time as seconds since the start of the seed: `+12.345s`. */
export function formatTime(ms: number): string {
  return `+${(ms / 1000).toFixed(3)}s`;
}
