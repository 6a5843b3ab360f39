import assert from 'node:assert/strict';
import type { MessageCatalog, SagaDefinition, SagaFailure } from '../saga-definition';
import type { HistoryEntry, HistoryEvent, OutgoingCommand, SagaInstance, SagaStatus, TransitionResult } from '../saga-instance';
import { cancel, onReply, onTimeout, retryCompensation, retryStep, start } from '../saga-transitions';
import { sequentialIds, type IdGenerator } from '../ports/id-generator';

/**
 * A command as a test expects it; leave out what does not matter. Typed by the saga's message
 * catalogue `M`: `type` must be one of its messages and `payload` that message's payload.
 *
 * @example
 * const pay: ExpectedCommand<ContractMessages> = { participant: 'payment.commands', type: 'ProcessPayment' };
 */
export type ExpectedCommand<M extends MessageCatalog = MessageCatalog> = {
  [K in keyof M & string]: { participant?: string; type: K; payload?: M[K] };
}[keyof M & string];

/**
 * Saga unit tests that read like the saga (eventuate-tram-sagas' `SagaUnitTestSupport`): given a
 * definition, when a reply / timeout / operator action, expect commands and state. Drives the pure
 * transitions only; time moves only when a test says so. Reply and command types and payloads are
 * checked at compile time against the definition's message catalogue (`SagaDefinition<D, M>`): a
 * misspelled reply or a wrong payload field does not compile.
 *
 * @example
 * import { givenSaga } from '@saga/saga/testing';
 * givenSaga(placeOrderSaga()).startedWith(data)
 *   .expectCommand({ participant: 'inventory.commands', type: 'ReserveStock' })
 *   .whenReply('StockReserved', { orderId })
 *   .expectCommand({ type: 'ProcessPayment' });
 */
export function givenSaga<D, M extends MessageCatalog>(
  def: SagaDefinition<D, M>,
  o: { sagaId?: string; now?: Date; ids?: IdGenerator } = {},
): SagaScenario<D, M> {
  return new SagaScenario(def, o.sagaId ?? 'saga-1', o.now ?? new Date('2026-01-01T00:00:00.000Z'), o.ids ?? sequentialIds('cmd'));
}

/**
 * One saga under test, built by {@link givenSaga}; every `when…` applies one transition, every
 * `expect…` asserts on the last one (or on the instance) and returns the scenario to chain on.
 *
 * @example
 * const saga: SagaScenario<PlaceOrderData, ContractMessages> = givenSaga(placeOrderSaga()).startedWith(data);
 * saga.whenReply('StockReserved', { orderId }).expectCommand({ type: 'ProcessPayment' });
 */
export class SagaScenario<D, M extends MessageCatalog = MessageCatalog> {
  private current: SagaInstance<D> | null = null;
  private lastResult: TransitionResult<D> | null = null;
  /** Every command sent so far, in order. */
  readonly sent: OutgoingCommand[] = [];
  /** Every history entry so far, in order. */
  readonly history: HistoryEntry[] = [];

  constructor(
    readonly def: SagaDefinition<D, M>,
    readonly sagaId: string,
    public now: Date,
    private readonly ids: IdGenerator,
  ) {}

  get instance(): SagaInstance<D> {
    assert.ok(this.current, 'the saga has not been started');
    return this.current;
  }

  get last(): TransitionResult<D> {
    assert.ok(this.lastResult, 'nothing happened yet');
    return this.lastResult;
  }

  /** The most recent command sent, in any transition. */
  get lastCommand(): OutgoingCommand {
    const c = this.sent[this.sent.length - 1];
    assert.ok(c, 'no command was sent');
    return c;
  }

  startedWith(data: D): this {
    return this.record(start(this.def, { sagaId: this.sagaId, data, now: this.now, ids: this.ids }));
  }

  /** A reply of a catalogue message type with its payload, to `to` (a message id; default: the last command sent). */
  whenReply<K extends keyof M & string>(type: K, payload: M[K], o: { to?: string; messageId?: string } = {}): this {
    const causationId = o.to ?? this.lastCommand.messageId;
    const reply = { type, causationId, payload, messageId: o.messageId ?? `reply-to-${causationId}` };
    return this.record(onReply(this.def, this.instance, reply, { now: this.now, ids: this.ids }));
  }

  /** Moves time to the saga's deadline and fires the timer. */
  whenTimeout(): this {
    assert.ok(this.instance.deadlineAt, `saga is ${this.instance.status} and has no timer`);
    this.now = this.instance.deadlineAt;
    return this.record(onTimeout(this.def, this.instance, { now: this.now, ids: this.ids }));
  }

  /** Fires the timer at the current time (use `advance` first), whether due or not. */
  whenTimerChecked(): this {
    return this.record(onTimeout(this.def, this.instance, { now: this.now, ids: this.ids }));
  }

  whenOperatorRetries(): this {
    return this.record(retryCompensation(this.def, this.instance, { now: this.now, ids: this.ids }));
  }

  whenOperatorRetriesStep(): this {
    return this.record(retryStep(this.def, this.instance, { now: this.now, ids: this.ids }));
  }

  whenOperatorCancels(reason?: string): this {
    return this.record(cancel(this.def, this.instance, { now: this.now, ids: this.ids }, reason));
  }

  advance(ms: number): this {
    this.now = new Date(this.now.getTime() + ms);
    return this;
  }

  /** The last transition sent exactly these commands, in this order. */
  expectCommands(...expected: ExpectedCommand<M>[]): this {
    assert.ok(!this.last.ignored, `the last event was ignored: ${this.last.ignored}`);
    const got = this.last.commands;
    assert.deepEqual(
      got.map((c) => c.type),
      expected.map((e) => e.type),
      'command types sent by the last transition',
    );
    expected.forEach((e, i) => {
      const c = got[i];
      assert.equal(c.sagaId, this.sagaId);
      if (e.participant !== undefined) assert.equal(c.participant, e.participant, `participant of ${e.type}`);
      if (e.payload !== undefined) assert.deepEqual(c.payload, e.payload, `payload of ${e.type}`);
    });
    return this;
  }

  expectCommand(expected: ExpectedCommand<M>): this {
    return this.expectCommands(expected);
  }

  expectNoCommand(): this {
    assert.deepEqual(this.last.commands.map((c) => c.type), [], 'no command expected');
    return this;
  }

  /** The last event changed nothing; `reason` (if given) must occur in the ignore reason. */
  expectIgnored(reason?: string | RegExp): this {
    assert.ok(this.last.ignored, 'the last event was expected to be ignored');
    if (typeof reason === 'string') assert.ok(this.last.ignored.includes(reason), `ignored because: ${this.last.ignored}`);
    else if (reason) assert.match(this.last.ignored, reason);
    assert.deepEqual(this.last.commands, []);
    assert.deepEqual(this.last.history, []);
    return this;
  }

  expectStatus(status: SagaStatus): this {
    assert.equal(this.instance.status, status, 'saga status');
    if (status === 'COMPLETED' || status === 'COMPENSATED' || status === 'COMPENSATION_FAILED') {
      assert.equal(this.instance.deadlineAt, null, 'a saga that waits for nothing has no timer');
    } else {
      assert.ok(this.instance.deadlineAt, 'a running saga has a timer');
    }
    return this;
  }

  expectFailure(expected: Partial<SagaFailure>): this {
    assert.ok(this.instance.failure, 'saga has no failure');
    for (const [k, v] of Object.entries(expected)) {
      assert.equal(this.instance.failure[k as keyof SagaFailure], v, `failure.${k}`);
    }
    return this;
  }

  /** The history entries the last transition appended have these events, in order. */
  expectHistory(...events: HistoryEvent[]): this {
    assert.deepEqual(this.last.history.map((h) => h.event), events, 'history of the last transition');
    return this;
  }

  private record(r: TransitionResult<D>): this {
    this.lastResult = r;
    if (!r.ignored) {
      if (this.current) assert.equal(r.instance.version, this.current.version + 1, 'each transition adds 1 to the version');
      this.current = r.instance;
      this.sent.push(...r.commands);
      this.history.push(...r.history);
    }
    return this;
  }
}
