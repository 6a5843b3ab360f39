import { kindOptionProblems, kindOrderProblems, type StepKind } from './step-kind';

/**
 * The typed saga definition DSL. A saga is a linear list of steps, each declared with its kind
 * (see {@link StepKind}) in Garcia-Molina's order: `compensable` steps that can be undone, then the
 * `pivot` (whose failure still compensates the earlier steps, and whose success commits the saga),
 * then `retriable` steps that are re-sent until they succeed and are never compensated.
 *
 * @example
 * type Messages = { ReserveStock: { orderId: string }; StockReserved: { orderId: string };
 *   StockReservationFailed: { orderId: string; code: string; reason: string };
 *   ReleaseStock: { orderId: string }; StockReleased: { orderId: string };
 *   ProcessPayment: { orderId: string }; PaymentCompleted: { orderId: string }; PaymentFailed: { orderId: string };
 *   ConfirmOrder: { orderId: string }; OrderPlaced: { orderId: string } };
 * const order = defineSaga<{ orderId: string }, Messages>('Order', { timeoutMs: 10_000 })
 *   .compensable('reserveStock', {
 *     invoke: (d) => ({ participant: 'inventory.commands', type: 'ReserveStock', payload: { orderId: d.orderId } }),
 *     onReply: { StockReserved: 'success', StockReservationFailed: 'failure' },
 *     compensate: {
 *       command: (d) => ({ participant: 'inventory.commands', type: 'ReleaseStock', payload: { orderId: d.orderId } }),
 *       onReply: 'StockReleased',
 *     },
 *     compensateOnTimeout: true,
 *     retry: { maxAttempts: 3, backoffMs: 200 },
 *   })
 *   .pivot('processPayment', {
 *     invoke: (d) => ({ participant: 'payment.commands', type: 'ProcessPayment', payload: { orderId: d.orderId } }),
 *     onReply: { PaymentCompleted: 'success', PaymentFailed: 'failure' },
 *   })
 *   .retriable('confirmOrder', {
 *     invoke: (d) => ({ participant: 'order.commands', type: 'ConfirmOrder', payload: { orderId: d.orderId } }),
 *     onReply: { OrderPlaced: 'success' },
 *   })
 *   .build();
 */

/** Message type → payload type. The engine is generic; an app passes its own catalogue for typing. */
export type MessageCatalog = Record<string, unknown>;

/** A command to send: `participant` is where it goes (a topic name in practice). */
export type CommandOf<M extends MessageCatalog> = {
  [K in keyof M & string]: { participant: string; type: K; payload: M[K] };
}[keyof M & string];

/** The untyped form the engine works with. */
export interface SagaCommand {
  participant: string;
  type: string;
  payload: unknown;
}

/**
 * How often a command is sent and how long to wait between sends. The delay before attempt n+1 is
 * `min(backoffMs × 2^(n-1), maxBackoffMs)`; no jitter, so transitions stay deterministic.
 *
 * @example
 * const retry: RetryPolicy = { maxAttempts: 3, backoffMs: 200, maxBackoffMs: 5_000 };
 */
export interface RetryPolicy {
  /** Total sends, the first one included (≥ 1). Ignored by retriable steps. */
  maxAttempts: number;
  backoffMs: number;
  maxBackoffMs?: number;
}

/** Why a saga failed: the code and reason of the failing step's reply, or STEP_TIMEOUT. */
export interface SagaFailure {
  code: string;
  reason: string;
  step: string;
}

export type ReplyOutcome = 'success' | 'failure';

/** Full form of a reply rule; the short form is just the outcome. */
export interface ReplyRule<D, P> {
  outcome: ReplyOutcome;
  /** Returns the new saga data (e.g. remember an id from the reply). Must not mutate `data`. */
  update?: (data: D, payload: P) => D;
  /** Failure code and reason; by default `payload.code` and `payload.reason` when they are strings. */
  failure?: (payload: P) => { code: string; reason: string };
}

export type ReplyRules<D, M extends MessageCatalog> = {
  [K in keyof M & string]?: ReplyOutcome | ReplyRule<D, M[K]>;
};

/** The command that undoes a step, and the reply type(s) that say it is done. */
export interface CompensationSpec<D, M extends MessageCatalog> {
  /** Gets the saga failure, so e.g. `FailOrder` can carry OUT_OF_STOCK / "P001 is not available". */
  command: (data: D, failure: SagaFailure) => CommandOf<M>;
  onReply: (keyof M & string) | readonly (keyof M & string)[];
  /** Defaults to the step's timeout. */
  timeoutMs?: number;
  /** A compensation that times out is re-sent; after maxAttempts the saga is COMPENSATION_FAILED. */
  retry?: RetryPolicy;
}

/** What every kind of step declares: the command, the replies it expects, its deadline and re-sends. */
export interface CommonStepSpec<D, M extends MessageCatalog> {
  invoke: (data: D) => CommandOf<M>;
  /** Reply type → outcome. A reply of a type not listed here is ignored (and reported as such). */
  onReply: ReplyRules<D, M>;
  timeoutMs?: number;
  /**
   * Re-send with a new message id on timeout, up to maxAttempts; then the step fails (STEP_TIMEOUT).
   * A retriable step uses only the backoff: it is re-sent for as long as it takes.
   */
  retry?: RetryPolicy;
}

/**
 * A step that can be undone: `compensate` runs when a later step fails (newest first).
 *
 * @example
 * .compensable('reserveStock', { invoke, onReply: { StockReserved: 'success', StockReservationFailed: 'failure' },
 *   compensate: { command: (d) => ({ participant: 'inventory.commands', type: 'ReleaseStock', payload: d }), onReply: 'StockReleased' } })
 * .compensable('validate', { invoke, onReply: { Validated: 'success', Invalid: 'failure' }, compensate: 'none' })
 */
export interface CompensableStepSpec<D, M extends MessageCatalog> extends CommonStepSpec<D, M> {
  /**
   * The command that undoes the step, or `'none'` for a step with nothing to undo (read-only, such
   * as a validation): it can still fail, so it comes before the pivot. Required, so a forgotten
   * compensation is an error rather than a silent no-op.
   */
  compensate: CompensationSpec<D, M> | 'none';
  /**
   * When the step times out for good its outcome is unknown (the participant may have acted), so
   * run this step's own compensation too, not only the earlier steps'. Also on an operator cancel.
   * Needs a compensation.
   */
  compensateOnTimeout?: boolean;
  /**
   * The event that starts the saga already carries this step's effect: the starter did it in the
   * transaction that wrote the event (e.g. the order is PAYMENT_PENDING when its start event is
   * written), so `start` does not send it, and it costs no round trip. Its compensation still runs
   * on failure, which is why only compensable steps can be done at start, and only leading ones.
   * `invoke` stays, so an operator retry, or an instance started before the step became so, can
   * still send it.
   */
  doneAtStart?: boolean;
}

/**
 * The go/no-go step: its failure compensates the steps before it; once it succeeds only retriable
 * steps follow, so it has no compensation.
 *
 * @example
 * .pivot('processPayment', { invoke, onReply: { PaymentCompleted: 'success', PaymentFailed: 'failure' },
 *   onUnknownOutcome: { command: (d) => ({ participant: 'payment.commands', type: 'RefundPayment', payload: d }), onReply: 'PaymentRefunded' } })
 */
export interface PivotStepSpec<D, M extends MessageCatalog> extends CommonStepSpec<D, M> {
  /**
   * Sent when the pivot's outcome is unknown (its last attempt got no reply, or an operator
   * canceled it), before the earlier steps are compensated: a reverse-if-applied command (e.g. a
   * refund of a payment that may have been taken). Never sent after the pivot answered. Without
   * it, a pivot of unknown outcome is taken as not done.
   */
  onUnknownOutcome?: CompensationSpec<D, M>;
}

/**
 * A step after the pivot: re-sent on timeout and on a failure reply, forever, with the retry
 * backoff (default {@link DEFAULT_RETRIABLE_RETRY}); it never fails the saga and is never undone.
 *
 * @example
 * .retriable('confirmOrder', { invoke, onReply: { OrderPlaced: 'success' }, retry: { maxAttempts: 1, backoffMs: 1_000 } })
 */
export type RetriableStepSpec<D, M extends MessageCatalog> = CommonStepSpec<D, M>;

/** Any kind's spec as the builder keeps it; the kind decides which options count. */
type KindedStepSpec<D, M extends MessageCatalog> = CommonStepSpec<D, M> &
  Partial<Pick<CompensableStepSpec<D, M>, 'compensate' | 'compensateOnTimeout' | 'doneAtStart'>> &
  Pick<PivotStepSpec<D, M>, 'onUnknownOutcome'>;

/**
 * Saga-wide options: the definition's version, and defaults for what steps leave out.
 *
 * @example
 * defineSaga<OrderData, Messages>('PlaceOrder', { version: 2, timeoutMs: 15_000 })
 */
export interface SagaDefaults {
  /**
   * The definition's version (an integer ≥ 1; default 1). An instance records the version it
   * started on and is always advanced by that version's definition; a new version of a saga is a
   * new definition with the same type and a higher version, registered next to the older ones.
   */
  version?: number;
  timeoutMs?: number;
  retry?: RetryPolicy;
  compensationRetry?: RetryPolicy;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 1, backoffMs: 0 };
export const DEFAULT_COMPENSATION_RETRY: RetryPolicy = { maxAttempts: 5, backoffMs: 1_000, maxBackoffMs: 30_000 };
/** Backoff of a retriable step that has no retry policy of its own. */
export const DEFAULT_RETRIABLE_RETRY: RetryPolicy = { maxAttempts: 1, backoffMs: 1_000, maxBackoffMs: 30_000 };
const DEFAULT_MAX_BACKOFF_MS = 60_000;

export interface ResolvedReplyRule {
  outcome: ReplyOutcome;
  update?: (data: any, payload: any) => unknown;
  failure?: (payload: any) => { code: string; reason: string };
}

export interface ResolvedCompensation<D> {
  command: (data: D, failure: SagaFailure) => SagaCommand;
  replies: ReadonlySet<string>;
  timeoutMs: number;
  retry: RetryPolicy;
}

/** A step after `build()`: defaults applied, reply rules normalised. */
export interface SagaStep<D> {
  readonly name: string;
  readonly index: number;
  readonly kind: StepKind;
  readonly invoke: (data: D) => SagaCommand;
  readonly replies: ReadonlyMap<string, ResolvedReplyRule>;
  /**
   * How the step is undone: a compensable step's `compensate`, or a pivot's `onUnknownOutcome`
   * (reached only when its outcome is unknown); null when there is nothing to undo.
   */
  readonly compensation: ResolvedCompensation<D> | null;
  /** An unknown outcome (last attempt timed out, operator cancel) undoes this step too, not only the earlier ones. */
  readonly compensateOnTimeout: boolean;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly doneAtStart: boolean;
}

/** Type-only key that carries a definition's message catalogue (never set at run time). */
declare const MESSAGES: unique symbol;

/**
 * A built, validated saga definition; immutable. `M` is the message catalogue its commands and
 * replies were typed with, kept for the typed test DSL (`@saga/saga/testing`); leave it out where
 * messages are untyped.
 *
 * @example
 * const def: SagaDefinition<OrderData, ContractMessages> = placeOrderSaga();
 * def.step('processPayment').kind === 'pivot';
 */
export interface SagaDefinition<D = unknown, M extends MessageCatalog = MessageCatalog> {
  readonly type: string;
  /** Which version of the type this is (see {@link SagaDefaults.version}). */
  readonly version: number;
  readonly steps: readonly SagaStep<D>[];
  /** The step called `name`; throws for an unknown name (a stored instance of another version). */
  step(name: string): SagaStep<D>;
  readonly [MESSAGES]?: M;
}

/**
 * Starts a saga definition. `D` is the saga data, `M` the message catalogue used to type commands
 * and reply payloads (leave it out for untyped messages).
 *
 * @example
 * const def = defineSaga<{ orderId: string }>('Ping').retriable('ping', {
 *   invoke: (d) => ({ participant: 'ping.commands', type: 'Ping', payload: d }),
 *   onReply: { Pong: 'success' },
 * }).build();
 */
export function defineSaga<D, M extends MessageCatalog = Record<string, any>>(
  type: string,
  defaults: SagaDefaults = {},
): SagaBuilder<D, M> {
  return new SagaBuilder<D, M>(type, defaults);
}

/**
 * Collects steps, each declared by its kind; `build()` validates and freezes them. `build()` throws
 * one Error listing every problem, each naming its step: a compensable step without compensation
 * or after the pivot, a pivot with a compensation, a second pivot, a retriable step before the
 * pivot, an option the step's kind does not have, a `doneAtStart` step that is not leading.
 */
export class SagaBuilder<D, M extends MessageCatalog> {
  private readonly specs: { name: string; kind: StepKind; spec: KindedStepSpec<D, M> }[] = [];

  constructor(
    private readonly type: string,
    private readonly defaults: SagaDefaults,
  ) {}

  /**
   * A step that can be undone; comes before the pivot.
   *
   * @example
   * .compensable('reserveStock', { invoke, onReply, compensate: { command, onReply: 'StockReleased' }, compensateOnTimeout: true })
   */
  compensable(name: string, spec: CompensableStepSpec<D, M>): this {
    return this.add(name, 'compensable', spec);
  }

  /**
   * The saga's one go/no-go step: no compensation; after it only retriable steps.
   *
   * @example
   * .pivot('processPayment', { invoke, onReply: { PaymentCompleted: 'success', PaymentFailed: 'failure' } })
   */
  pivot(name: string, spec: PivotStepSpec<D, M>): this {
    return this.add(name, 'pivot', spec);
  }

  /**
   * A step after the pivot, re-sent until it succeeds.
   *
   * @example
   * .retriable('confirmOrder', { invoke, onReply: { OrderPlaced: 'success' } })
   */
  retriable(name: string, spec: RetriableStepSpec<D, M>): this {
    return this.add(name, 'retriable', spec);
  }

  build(): SagaDefinition<D, M> {
    const problems: string[] = [];
    if (!this.type) problems.push('the saga needs a type');
    const version = this.defaults.version ?? 1;
    if (!Number.isInteger(version) || version < 1) problems.push(`version must be an integer ≥ 1 (got ${version})`);
    if (this.specs.length === 0) problems.push('a saga needs at least one step');
    const seen = new Set<string>();
    let leading = true;
    const where = (name: string, index: number) => `step ${name || `#${index + 1}`}`;
    problems.push(...kindOrderProblems(this.specs.map(({ name, kind }, index) => ({ name, kind, where: where(name, index) }))));
    const steps = this.specs.map(({ name, kind, spec }, index): SagaStep<D> => {
      const at = where(name, index);
      if (!name) problems.push(`${at}: a step needs a name`);
      if (seen.has(name)) problems.push(`${at}: step names must be unique`);
      seen.add(name);
      problems.push(...kindOptionProblems(at, kind, spec));
      const replies = new Map<string, ResolvedReplyRule>();
      for (const [type, rule] of Object.entries(spec.onReply) as [string, ReplyOutcome | ReplyRule<D, unknown>][]) {
        if (rule === undefined) continue;
        replies.set(type, typeof rule === 'string' ? { outcome: rule } : rule);
      }
      if (![...replies.values()].some((r) => r.outcome === 'success')) problems.push(`${at}: needs a success reply`);
      if (kind === 'compensable' && !spec.compensate) {
        problems.push(`${at}: a compensable step needs compensate ('none' if it has nothing to undo; one that cannot be undone is the pivot or retriable)`);
      }
      if (spec.compensateOnTimeout && spec.compensate === 'none') problems.push(`${at}: compensateOnTimeout needs a compensation`);
      const doneAtStart = kind === 'compensable' && spec.doneAtStart === true;
      if (doneAtStart && !leading) problems.push(`${at}: only the leading steps can be doneAtStart`);
      leading &&= doneAtStart;
      const timeoutMs = spec.timeoutMs ?? this.defaults.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const retry = spec.retry ?? (kind === 'retriable' ? DEFAULT_RETRIABLE_RETRY : (this.defaults.retry ?? DEFAULT_RETRY));
      checkTimeout(problems, at, timeoutMs);
      checkRetry(problems, at, retry);
      const undo = kind === 'compensable' ? spec.compensate : kind === 'pivot' ? spec.onUnknownOutcome : undefined;
      const compensation = undo && undo !== 'none' ? this.resolveCompensation(problems, at, undo, timeoutMs) : null;
      return Object.freeze({
        name,
        index,
        kind,
        invoke: spec.invoke as (data: D) => SagaCommand,
        replies,
        compensation,
        compensateOnTimeout: kind === 'compensable' ? spec.compensateOnTimeout === true : compensation !== null,
        timeoutMs,
        retry,
        doneAtStart,
      });
    });
    if (steps.length > 0 && steps.every((s) => s.doneAtStart)) problems.push('a saga needs a step that is not doneAtStart');
    if (problems.length > 0) throw new Error(`saga ${this.type}${this.defaults.version ? ` v${this.defaults.version}` : ''}: ${problems.join('; ')}`);
    const byName = new Map(steps.map((s) => [s.name, s]));
    const type = this.type;
    return Object.freeze({
      type,
      version,
      steps: Object.freeze(steps),
      step(name: string): SagaStep<D> {
        const found = byName.get(name);
        if (!found) throw new Error(`saga ${type} v${version} has no step ${name}`);
        return found;
      },
    });
  }

  private add(name: string, kind: StepKind, spec: KindedStepSpec<D, M>): this {
    this.specs.push({ name, kind, spec });
    return this;
  }

  private resolveCompensation(
    problems: string[],
    at: string,
    c: CompensationSpec<D, M>,
    stepTimeoutMs: number,
  ): ResolvedCompensation<D> {
    const types = typeof c.onReply === 'string' ? [c.onReply] : [...(c.onReply as readonly string[])];
    if (types.length === 0) problems.push(`${at}: the compensation needs a reply type`);
    const compensation = {
      command: c.command as (data: D, failure: SagaFailure) => SagaCommand,
      replies: new Set(types),
      timeoutMs: c.timeoutMs ?? stepTimeoutMs,
      retry: c.retry ?? this.defaults.compensationRetry ?? DEFAULT_COMPENSATION_RETRY,
    };
    checkTimeout(problems, `${at} compensation`, compensation.timeoutMs);
    checkRetry(problems, `${at} compensation`, compensation.retry);
    return compensation;
  }
}

/**
 * Delay before attempt `attempt + 1` after attempt `attempt` (1-based) under `policy`.
 *
 * @example
 * backoffDelay({ maxAttempts: 5, backoffMs: 100 }, 3) === 400
 */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const max = policy.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
  return Math.min(policy.backoffMs * 2 ** Math.max(0, attempt - 1), max);
}

function checkTimeout(problems: string[], where: string, timeoutMs: number): void {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) problems.push(`${where}: timeoutMs must be positive`);
}

function checkRetry(problems: string[], where: string, retry: RetryPolicy): void {
  if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1) problems.push(`${where}: retry.maxAttempts must be ≥ 1`);
  if (!(retry.backoffMs >= 0)) problems.push(`${where}: retry.backoffMs must be ≥ 0`);
}
