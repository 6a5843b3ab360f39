/**
 * The typed saga definition DSL. A saga is a linear list of steps in the order of Garcia-Molina's
 * "compensatable → pivot → retriable" rule: steps that can be undone come first, then the pivot
 * (whose failure still compensates the earlier steps), then steps marked `retryUntilSuccess`
 * that must eventually succeed and are never compensated.
 *
 * @example
 * type Messages = { ReserveStock: { orderId: string }; StockReserved: { orderId: string };
 *   StockReservationFailed: { orderId: string; code: string; reason: string };
 *   ReleaseStock: { orderId: string }; StockReleased: { orderId: string } };
 * const reserve = defineSaga<{ orderId: string }, Messages>('Reserve', { timeoutMs: 10_000 })
 *   .step('reserveStock', {
 *     invoke: (d) => ({ participant: 'inventory.commands', type: 'ReserveStock', payload: { orderId: d.orderId } }),
 *     onReply: { StockReserved: 'success', StockReservationFailed: 'failure' },
 *     compensate: {
 *       command: (d) => ({ participant: 'inventory.commands', type: 'ReleaseStock', payload: { orderId: d.orderId } }),
 *       onReply: 'StockReleased',
 *     },
 *     compensateOnTimeout: true,
 *     retry: { maxAttempts: 3, backoffMs: 200 },
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
  /** Total sends, the first one included (≥ 1). Ignored by `retryUntilSuccess` steps. */
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

export interface StepSpec<D, M extends MessageCatalog> {
  invoke: (data: D) => CommandOf<M>;
  /** Reply type → outcome. A reply of a type not listed here is ignored (and reported as such). */
  onReply: ReplyRules<D, M>;
  compensate?: CompensationSpec<D, M>;
  /**
   * When the step times out for good its outcome is unknown (the participant may have acted), so
   * run this step's own compensation too, not only the earlier steps'. Needs `compensate`.
   */
  compensateOnTimeout?: boolean;
  timeoutMs?: number;
  /** Re-send with a new message id on timeout, up to maxAttempts; then the step fails (STEP_TIMEOUT). */
  retry?: RetryPolicy;
  /**
   * Post-pivot step: re-sent on timeout and on a failure reply, forever, with the retry backoff.
   * Such steps form the tail of the saga and have no compensation.
   */
  retryUntilSuccess?: boolean;
  /**
   * The event that starts the saga already carries this step's effect: the starter did it in the
   * transaction that wrote the event (e.g. the order is PAYMENT_PENDING when its start event is
   * written), so `start` does not send it, and it costs no round trip. Its compensation still runs
   * on failure. Only leading steps; `invoke` stays, so an operator retry, or an instance started
   * before the step became so, can still send it.
   */
  doneAtStart?: boolean;
}

/** Saga-wide defaults for what steps leave out. */
export interface SagaDefaults {
  timeoutMs?: number;
  retry?: RetryPolicy;
  compensationRetry?: RetryPolicy;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 1, backoffMs: 0 };
export const DEFAULT_COMPENSATION_RETRY: RetryPolicy = { maxAttempts: 5, backoffMs: 1_000, maxBackoffMs: 30_000 };
/** Backoff of a `retryUntilSuccess` step that has no retry policy of its own. */
export const DEFAULT_RETRY_UNTIL_SUCCESS: RetryPolicy = { maxAttempts: 1, backoffMs: 1_000, maxBackoffMs: 30_000 };
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
  readonly invoke: (data: D) => SagaCommand;
  readonly replies: ReadonlyMap<string, ResolvedReplyRule>;
  readonly compensation: ResolvedCompensation<D> | null;
  readonly compensateOnTimeout: boolean;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly retryUntilSuccess: boolean;
  readonly doneAtStart: boolean;
}

/** A built, validated saga definition; immutable. */
export interface SagaDefinition<D = unknown> {
  readonly type: string;
  readonly steps: readonly SagaStep<D>[];
  /** The step called `name`; throws for an unknown name (a stored instance of another version). */
  step(name: string): SagaStep<D>;
}

/**
 * Starts a saga definition. `D` is the saga data, `M` the message catalogue used to type commands
 * and reply payloads (leave it out for untyped messages).
 *
 * @example
 * const def = defineSaga<{ orderId: string }>('Ping').step('ping', {
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

/** Collects steps; `build()` validates and freezes them. */
export class SagaBuilder<D, M extends MessageCatalog> {
  private readonly specs: { name: string; spec: StepSpec<D, M> }[] = [];

  constructor(
    private readonly type: string,
    private readonly defaults: SagaDefaults,
  ) {}

  step(name: string, spec: StepSpec<D, M>): this {
    this.specs.push({ name, spec });
    return this;
  }

  build(): SagaDefinition<D> {
    const problems: string[] = [];
    if (!this.type) problems.push('the saga needs a type');
    if (this.specs.length === 0) problems.push('a saga needs at least one step');
    const seen = new Set<string>();
    let retriableTail = false;
    let leading = true;
    const steps = this.specs.map(({ name, spec }, index): SagaStep<D> => {
      const where = `step ${name || `#${index + 1}`}`;
      if (!name) problems.push(`${where}: a step needs a name`);
      if (seen.has(name)) problems.push(`${where}: step names must be unique`);
      seen.add(name);
      const replies = new Map<string, ResolvedReplyRule>();
      for (const [type, rule] of Object.entries(spec.onReply) as [string, ReplyOutcome | ReplyRule<D, unknown>][]) {
        if (rule === undefined) continue;
        replies.set(type, typeof rule === 'string' ? { outcome: rule } : rule);
      }
      if (![...replies.values()].some((r) => r.outcome === 'success')) problems.push(`${where}: needs a success reply`);
      const retryUntilSuccess = spec.retryUntilSuccess === true;
      if (retryUntilSuccess) {
        retriableTail = true;
        if (spec.compensate) problems.push(`${where}: a retryUntilSuccess step cannot have a compensation`);
      } else if (retriableTail) {
        problems.push(`${where}: only retryUntilSuccess steps may follow a retryUntilSuccess step`);
      }
      if (spec.compensateOnTimeout && !spec.compensate) problems.push(`${where}: compensateOnTimeout needs compensate`);
      if (spec.doneAtStart && !leading) problems.push(`${where}: only the leading steps can be doneAtStart`);
      if (spec.doneAtStart && retryUntilSuccess) problems.push(`${where}: a retryUntilSuccess step cannot be doneAtStart`);
      leading &&= spec.doneAtStart === true;
      const timeoutMs = spec.timeoutMs ?? this.defaults.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const retry =
        spec.retry ?? (retryUntilSuccess ? DEFAULT_RETRY_UNTIL_SUCCESS : (this.defaults.retry ?? DEFAULT_RETRY));
      checkTimeout(problems, where, timeoutMs);
      checkRetry(problems, where, retry);
      let compensation: ResolvedCompensation<D> | null = null;
      if (spec.compensate) {
        const c = spec.compensate;
        const types = typeof c.onReply === 'string' ? [c.onReply] : [...(c.onReply as readonly string[])];
        if (types.length === 0) problems.push(`${where}: the compensation needs a reply type`);
        compensation = {
          command: c.command as (data: D, failure: SagaFailure) => SagaCommand,
          replies: new Set(types),
          timeoutMs: c.timeoutMs ?? timeoutMs,
          retry: c.retry ?? this.defaults.compensationRetry ?? DEFAULT_COMPENSATION_RETRY,
        };
        checkTimeout(problems, `${where} compensation`, compensation.timeoutMs);
        checkRetry(problems, `${where} compensation`, compensation.retry);
      }
      return Object.freeze({
        name,
        index,
        invoke: spec.invoke as (data: D) => SagaCommand,
        replies,
        compensation,
        compensateOnTimeout: spec.compensateOnTimeout === true,
        timeoutMs,
        retry,
        retryUntilSuccess,
        doneAtStart: spec.doneAtStart === true,
      });
    });
    if (steps.length > 0 && steps.every((s) => s.doneAtStart)) problems.push('a saga needs a step that is not doneAtStart');
    if (problems.length > 0) throw new Error(`saga ${this.type}: ${problems.join('; ')}`);
    const byName = new Map(steps.map((s) => [s.name, s]));
    const type = this.type;
    return Object.freeze({
      type,
      steps: Object.freeze(steps),
      step(name: string): SagaStep<D> {
        const found = byName.get(name);
        if (!found) throw new Error(`saga ${type} has no step ${name}`);
        return found;
      },
    });
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
