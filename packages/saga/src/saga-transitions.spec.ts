import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineSaga } from './saga-definition';
import { givenSaga } from './testing/saga-scenario';
import { FIXTURE_TIMEOUT_MS, placeOrderFixture, type FixtureData } from './testing/place-order-fixture.saga';

const ORDER = 'order-1';
const DATA: FixtureData = { orderId: ORDER, customerId: 'CUS_0001', amountCents: 99_999 };
const ref = { orderId: ORDER };

const MARK = { participant: 'order.commands', type: 'MarkOrderPaymentPending', payload: ref };
const RESERVE = { participant: 'inventory.commands', type: 'ReserveStock', payload: ref };
const PAY = {
  participant: 'payment.commands',
  type: 'ProcessPayment',
  payload: { orderId: ORDER, customerId: 'CUS_0001', amountCents: 99_999 },
};
const CONFIRM = { participant: 'order.commands', type: 'ConfirmOrder', payload: ref };
const COMMIT = { participant: 'inventory.commands', type: 'CommitStock', payload: ref };
const RELEASE = { participant: 'inventory.commands', type: 'ReleaseStock', payload: ref };
const REFUND = { participant: 'payment.commands', type: 'RefundPayment', payload: ref };
const failOrder = (code: string, reason: string) => ({
  participant: 'order.commands',
  type: 'FailOrder',
  payload: { orderId: ORDER, code, reason },
});

/** A saga that has got through steps 1 and 2 and waits for the payment. */
function awaitingPayment() {
  return givenSaga(placeOrderFixture, { sagaId: ORDER })
    .startedWith(DATA)
    .whenReply('OrderPaymentPendingMarked', ref)
    .whenReply('StockReserved', ref)
    .expectCommand(PAY);
}

describe('place-order shaped saga: happy path', () => {
  it('sends each step command in order and completes', () => {
    const saga = givenSaga(placeOrderFixture, { sagaId: ORDER })
      .startedWith(DATA)
      .expectCommand(MARK)
      .expectStatus('RUNNING')
      .expectHistory('STARTED', 'COMMAND_SENT')
      .whenReply('OrderPaymentPendingMarked', ref)
      .expectCommand(RESERVE)
      .whenReply('StockReserved', ref)
      .expectCommand(PAY)
      .whenReply('PaymentCompleted', { orderId: ORDER, paymentId: 'pay_order-1' })
      .expectCommand(CONFIRM)
      .whenReply('OrderPlaced', ref)
      .expectCommand(COMMIT)
      .whenReply('StockCommitted', ref)
      .expectNoCommand()
      .expectStatus('COMPLETED')
      .expectHistory('REPLY', 'COMPLETED');

    const i = saga.instance;
    assert.equal(i.version, 6, 'start + 5 replies');
    assert.equal(i.failure, null);
    assert.deepEqual(i.pendingCommandIds, []);
    assert.equal(i.data.paymentId, 'pay_order-1', 'the PaymentCompleted reply handler updated the data');
    assert.equal(i.historySize, saga.history.length);
    assert.deepEqual(
      saga.history.map((h) => h.seq),
      saga.history.map((_, n) => n + 1),
      'history seq numbers are 1..n without gaps',
    );
  });

  it('every command gets a fresh message id and the timer follows the step timeout', () => {
    const saga = givenSaga(placeOrderFixture, { sagaId: ORDER }).startedWith(DATA);
    const first = saga.lastCommand.messageId;
    assert.deepEqual(saga.instance.pendingCommandIds, [first]);
    assert.equal(saga.instance.deadlineAt!.getTime(), saga.now.getTime() + FIXTURE_TIMEOUT_MS);
    saga.whenReply('OrderPaymentPendingMarked', ref);
    assert.notEqual(saga.lastCommand.messageId, first);
    assert.deepEqual(saga.instance.pendingCommandIds, [saga.lastCommand.messageId]);
  });
});

describe('place-order shaped saga: a failure at each step compensates the done steps in reverse order', () => {
  it('step 1 rejected: nothing to undo, COMPENSATED at once', () => {
    givenSaga(placeOrderFixture, { sagaId: ORDER })
      .startedWith(DATA)
      .whenReply('OrderPaymentPendingRejected', { orderId: ORDER, code: 'ORDER_EXPIRED', reason: 'order expired' })
      .expectNoCommand()
      .expectStatus('COMPENSATED')
      .expectFailure({ code: 'ORDER_EXPIRED', reason: 'order expired', step: 'markPaymentPending' })
      .expectHistory('REPLY', 'STEP_FAILED', 'COMPENSATED');
  });

  it('step 2 out of stock: FailOrder carries OUT_OF_STOCK / "P001 is not available"', () => {
    givenSaga(placeOrderFixture, { sagaId: ORDER })
      .startedWith(DATA)
      .whenReply('OrderPaymentPendingMarked', ref)
      .whenReply('StockReservationFailed', { orderId: ORDER, code: 'OUT_OF_STOCK', reason: 'P001 is not available' })
      .expectCommand(failOrder('OUT_OF_STOCK', 'P001 is not available'))
      .expectStatus('COMPENSATING')
      .expectFailure({ code: 'OUT_OF_STOCK', reason: 'P001 is not available', step: 'reserveStock' })
      .whenReply('OrderFailed', ref)
      .expectNoCommand()
      .expectStatus('COMPENSATED')
      .expectFailure({ code: 'OUT_OF_STOCK' });
  });

  it('step 3 insufficient funds: ReleaseStock, then FailOrder', () => {
    const saga = awaitingPayment()
      .whenReply('PaymentFailed', { orderId: ORDER, code: 'INSUFFICIENT_FUNDS', reason: 'balance 100.00 < 999.99' })
      .expectCommand(RELEASE)
      .expectStatus('COMPENSATING')
      .whenReply('StockReleased', ref)
      .expectCommand(failOrder('INSUFFICIENT_FUNDS', 'balance 100.00 < 999.99'))
      .whenReply('OrderFailed', ref)
      .expectStatus('COMPENSATED');
    assert.deepEqual(
      saga.sent.map((c) => c.type),
      ['MarkOrderPaymentPending', 'ReserveStock', 'ProcessPayment', 'ReleaseStock', 'FailOrder'],
      'no RefundPayment: the payment step failed, it did not happen',
    );
  });

  it('steps 4 and 5 (after the pivot) never compensate: failures and timeouts re-send until success', () => {
    const saga = awaitingPayment()
      .whenReply('PaymentCompleted', { orderId: ORDER, paymentId: 'p' })
      .expectCommand(CONFIRM)
      .whenTimeout()
      .expectHistory('TIMEOUT', 'RETRY_SCHEDULED')
      .expectNoCommand()
      .expectStatus('RUNNING')
      .whenTimeout()
      .expectHistory('RETRY')
      .expectCommand(CONFIRM)
      .whenReply('OrderPlaced', ref)
      .expectCommand(COMMIT);
    // an unexpected failure-ish reply type is not in the rules: ignored, not a failure
    saga.whenReply('StockReservationFailed', { orderId: ORDER, code: 'X', reason: 'y' }).expectIgnored('does not expect');
    for (let n = 0; n < 20; n++) saga.whenTimeout();
    saga.expectStatus('RUNNING').whenReply('StockCommitted', ref).expectStatus('COMPLETED');
    assert.equal(saga.instance.failure, null);
    assert.ok(saga.sent.every((c) => !['ReleaseStock', 'RefundPayment', 'FailOrder'].includes(c.type)));
  });

  it('a retryUntilSuccess step re-sends after a failure reply, with backoff', () => {
    const def = defineSaga<{ id: string }>('Retriable')
      .step('only', {
        invoke: (d) => ({ participant: 'p', type: 'Do', payload: d }),
        onReply: { Done: 'success', NotYet: 'failure' },
        retryUntilSuccess: true,
        retry: { maxAttempts: 1, backoffMs: 100 },
      })
      .build();
    const saga = givenSaga(def).startedWith({ id: 'x' }).whenReply('NotYet', {}).expectNoCommand().expectStatus('RUNNING');
    assert.equal(saga.instance.deadlineKind, 'RESEND');
    assert.equal(saga.instance.deadlineAt!.getTime() - saga.now.getTime(), 100);
    saga.whenTimeout().expectCommand({ type: 'Do' }).whenReply('NotYet', {});
    assert.equal(saga.instance.deadlineAt!.getTime() - saga.now.getTime(), 200, 'backoff doubles per attempt');
    saga.whenTimeout().whenReply('Done', {}).expectStatus('COMPLETED');
    assert.equal(saga.instance.attempt, 3);
  });
});

describe('place-order shaped saga: timeouts', () => {
  it('a step is re-sent with a new message id on timeout, then the reply to the re-send completes it', () => {
    const saga = givenSaga(placeOrderFixture, { sagaId: ORDER }).startedWith(DATA);
    const firstId = saga.lastCommand.messageId;
    saga
      .whenTimeout()
      .expectHistory('TIMEOUT', 'RETRY_SCHEDULED')
      .expectNoCommand()
      .whenTimeout()
      .expectCommand(MARK)
      .expectHistory('RETRY');
    assert.notEqual(saga.lastCommand.messageId, firstId);
    assert.equal(saga.instance.attempt, 2);
    saga.whenReply('OrderPaymentPendingMarked', ref).expectCommand(RESERVE);
  });

  it('a late reply to an earlier attempt of the current step still counts (the participant is idempotent)', () => {
    const saga = givenSaga(placeOrderFixture, { sagaId: ORDER }).startedWith(DATA);
    const firstId = saga.lastCommand.messageId;
    saga.whenTimeout().whenTimeout().expectCommand(MARK);
    saga.whenReply('OrderPaymentPendingMarked', ref, { to: firstId }).expectCommand(RESERVE);
  });

  it('the backoff between re-sends doubles', () => {
    const saga = givenSaga(placeOrderFixture, { sagaId: ORDER }).startedWith(DATA).whenTimeout();
    assert.equal(saga.instance.deadlineAt!.getTime() - saga.now.getTime(), 200);
    saga.whenTimeout().whenTimeout();
    assert.equal(saga.instance.deadlineAt!.getTime() - saga.now.getTime(), 400);
  });

  it('with compensateOnTimeout: after the last attempt the step itself is compensated too, code STEP_TIMEOUT', () => {
    givenSaga(placeOrderFixture, { sagaId: ORDER })
      .startedWith(DATA)
      .whenReply('OrderPaymentPendingMarked', ref)
      .expectCommand(RESERVE)
      .whenTimeout() // reserveStock has the default policy: one attempt
      .expectHistory('TIMEOUT', 'STEP_FAILED', 'COMPENSATION_SENT')
      .expectCommand(RELEASE)
      .expectFailure({ code: 'STEP_TIMEOUT', step: 'reserveStock' })
      .whenReply('StockReleased', ref)
      .expectCommand(failOrder('STEP_TIMEOUT', `reserveStock got no reply within ${FIXTURE_TIMEOUT_MS} ms (1 attempt)`))
      .whenReply('OrderFailed', ref)
      .expectStatus('COMPENSATED');
  });

  it('with compensateOnTimeout on the first step: retries, then FailOrder for the step itself', () => {
    givenSaga(placeOrderFixture, { sagaId: ORDER })
      .startedWith(DATA)
      .whenTimeout()
      .whenTimeout()
      .whenTimeout()
      .whenTimeout()
      .expectCommand(MARK) // attempt 3
      .whenTimeout()
      .expectCommand(failOrder('STEP_TIMEOUT', `markPaymentPending got no reply within ${FIXTURE_TIMEOUT_MS} ms (3 attempts)`))
      .whenReply('OrderFailed', ref)
      .expectStatus('COMPENSATED');
  });

  it('without compensateOnTimeout: only the earlier steps are compensated', () => {
    awaitingPayment()
      .whenTimeout()
      .expectCommand(RELEASE)
      .expectFailure({ code: 'STEP_TIMEOUT', step: 'processPayment' })
      .whenReply('StockReleased', ref)
      .expectCommand(failOrder('STEP_TIMEOUT', `processPayment got no reply within ${FIXTURE_TIMEOUT_MS} ms (1 attempt)`));
  });

  it('a timer fired before it is due changes nothing', () => {
    givenSaga(placeOrderFixture, { sagaId: ORDER })
      .startedWith(DATA)
      .advance(FIXTURE_TIMEOUT_MS - 1)
      .whenTimerChecked()
      .expectIgnored('is due at');
  });
});

describe('place-order shaped saga: late and duplicate replies are ignored idempotently', () => {
  it('a duplicate reply (same causation id) is ignored', () => {
    const saga = givenSaga(placeOrderFixture, { sagaId: ORDER }).startedWith(DATA);
    const markId = saga.lastCommand.messageId;
    saga.whenReply('OrderPaymentPendingMarked', ref).expectCommand(RESERVE);
    const version = saga.instance.version;
    saga.whenReply('OrderPaymentPendingMarked', ref, { to: markId }).expectIgnored('late or duplicate');
    assert.equal(saga.instance.version, version);
  });

  it('a late success reply after the step timed out and compensation began is ignored', () => {
    const saga = awaitingPayment();
    const payId = saga.lastCommand.messageId;
    saga.whenTimeout().expectCommand(RELEASE);
    saga.whenReply('PaymentCompleted', { orderId: ORDER, paymentId: 'p' }, { to: payId }).expectIgnored('late or duplicate');
    saga.whenReply('StockReleased', ref).expectCommand(failOrder('STEP_TIMEOUT', saga.instance.failure!.reason));
  });

  it('replies after the saga completed are ignored', () => {
    const saga = awaitingPayment()
      .whenReply('PaymentCompleted', { orderId: ORDER, paymentId: 'p' })
      .whenReply('OrderPlaced', ref)
      .whenReply('StockCommitted', ref)
      .expectStatus('COMPLETED');
    saga.whenReply('StockCommitted', ref).expectIgnored();
    saga.whenReply('OrderPlaced', ref, { to: saga.sent[3].messageId }).expectIgnored();
  });

  it('a reply to a command the saga never sent is ignored', () => {
    const saga = givenSaga(placeOrderFixture, { sagaId: ORDER }).startedWith(DATA);
    saga.whenReply('OrderPaymentPendingMarked', ref, { to: 'not-a-command-of-this-saga' }).expectIgnored();
  });

  it('a timer of a finished saga does nothing', () => {
    givenSaga(placeOrderFixture, { sagaId: ORDER })
      .startedWith(DATA)
      .whenReply('OrderPaymentPendingRejected', { orderId: ORDER, code: 'ORDER_EXPIRED', reason: 'expired' })
      .whenTimerChecked()
      .expectIgnored('has no timer');
  });
});

describe('place-order shaped saga: compensation retries, COMPENSATION_FAILED, operator retry', () => {
  function compensatingStock() {
    return awaitingPayment()
      .whenReply('PaymentFailed', { orderId: ORDER, code: 'WALLET_UNAVAILABLE', reason: 'wallet did not answer (5 attempts)' })
      .expectCommand(RELEASE);
  }

  it('re-sends a timed-out compensation with backoff, then COMPENSATION_FAILED without a timer', () => {
    const saga = compensatingStock()
      .whenTimeout()
      .expectHistory('COMPENSATION_TIMEOUT', 'RETRY_SCHEDULED')
      .expectNoCommand()
      .expectStatus('COMPENSATING')
      .whenTimeout()
      .expectCommand(RELEASE)
      .expectHistory('COMPENSATION_RETRY')
      .whenTimeout()
      .whenTimeout()
      .expectCommand(RELEASE); // attempt 3 of 3
    assert.equal(saga.instance.attempt, 3);
    saga.whenTimeout().expectNoCommand().expectStatus('COMPENSATION_FAILED').expectHistory('COMPENSATION_TIMEOUT', 'COMPENSATION_FAILED');
    assert.equal(saga.instance.currentStep, 'reserveStock');
    saga.expectFailure({ code: 'WALLET_UNAVAILABLE', step: 'processPayment' });
  });

  it('the operator retry resumes compensating from the stuck compensation', () => {
    const saga = compensatingStock().whenTimeout().whenTimeout().whenTimeout().whenTimeout().whenTimeout();
    saga.expectStatus('COMPENSATION_FAILED');
    saga
      .whenOperatorRetries()
      .expectHistory('OPERATOR_RETRY', 'COMPENSATION_SENT')
      .expectCommand(RELEASE)
      .expectStatus('COMPENSATING');
    assert.equal(saga.instance.attempt, 1, 'a new series of attempts');
    saga
      .whenReply('StockReleased', ref)
      .expectCommand(failOrder('WALLET_UNAVAILABLE', 'wallet did not answer (5 attempts)'))
      .whenReply('OrderFailed', ref)
      .expectStatus('COMPENSATED');
  });

  it('a late compensation reply also resumes a COMPENSATION_FAILED saga', () => {
    const saga = compensatingStock();
    const firstRelease = saga.lastCommand.messageId;
    saga.whenTimeout().whenTimeout().whenTimeout().whenTimeout().whenTimeout().expectStatus('COMPENSATION_FAILED');
    saga.whenReply('StockReleased', ref, { to: firstRelease }).expectCommand({ type: 'FailOrder' }).expectStatus('COMPENSATING');
  });

  it('operator retry is refused for any other status', () => {
    compensatingStock().whenOperatorRetries().expectIgnored('only COMPENSATION_FAILED');
    givenSaga(placeOrderFixture).startedWith(DATA).whenOperatorRetries().expectIgnored('is RUNNING');
  });
});

describe('place-order shaped saga: operator cancel and step retry', () => {
  it('a cancel while reserving stock fails the step and compensates it and the steps before, newest first', () => {
    const saga = givenSaga(placeOrderFixture, { sagaId: ORDER }).startedWith(DATA).whenReply('OrderPaymentPendingMarked', ref);
    const reserveId = saga.lastCommand.messageId;
    saga
      .whenOperatorCancels()
      .expectHistory('OPERATOR_CANCEL', 'STEP_FAILED', 'COMPENSATION_SENT')
      .expectCommand(RELEASE) // reserveStock is compensateOnTimeout: its outcome is unknown
      .expectStatus('COMPENSATING')
      .expectFailure({ code: 'CANCELED_BY_OPERATOR', step: 'reserveStock' });
    // The reservation's late reply is ignored; the saga goes on compensating.
    saga.whenReply('StockReserved', ref, { to: reserveId }).expectIgnored('late or duplicate');
    saga
      .whenReply('StockReleased', ref)
      .expectCommand(failOrder('CANCELED_BY_OPERATOR', 'canceled by an operator during reserveStock'))
      .whenReply('OrderFailed', ref)
      .expectStatus('COMPENSATED');
  });

  it('a cancel during a step without compensateOnTimeout compensates only the earlier steps, with the given reason', () => {
    awaitingPayment()
      .whenOperatorCancels('customer asked')
      .expectCommand(RELEASE)
      .expectFailure({ code: 'CANCELED_BY_OPERATOR', reason: 'customer asked', step: 'processPayment' });
  });

  it('a cancel is refused past the pivot and for a saga that is not RUNNING', () => {
    const placed = awaitingPayment().whenReply('PaymentCompleted', { orderId: ORDER, paymentId: 'pay-1' }).expectCommand(CONFIRM);
    placed.whenOperatorCancels().expectIgnored('past its pivot');
    const compensating = awaitingPayment().whenReply('PaymentFailed', { orderId: ORDER, code: 'INSUFFICIENT_FUNDS', reason: 'poor' });
    compensating.whenOperatorCancels().expectIgnored('only a RUNNING saga');
  });

  it('a step retry re-sends the current command as a new attempt; the earlier attempt\'s reply still counts', () => {
    const saga = givenSaga(placeOrderFixture, { sagaId: ORDER }).startedWith(DATA);
    const first = saga.lastCommand.messageId;
    saga.whenOperatorRetriesStep().expectHistory('OPERATOR_RETRY', 'RETRY').expectCommand(MARK);
    assert.equal(saga.instance.attempt, 2);
    saga.whenReply('OrderPaymentPendingMarked', ref, { to: first }).expectCommand(RESERVE);
    awaitingPayment().whenReply('PaymentFailed', { orderId: ORDER, code: 'INSUFFICIENT_FUNDS', reason: 'poor' }).whenOperatorRetriesStep().expectIgnored('only a RUNNING step');
  });
});

describe('versions', () => {
  it('start is version 1 and every applied transition adds exactly 1; ignored events add nothing', () => {
    const saga = givenSaga(placeOrderFixture, { sagaId: ORDER }).startedWith(DATA);
    assert.equal(saga.instance.version, 1);
    const markId = saga.lastCommand.messageId;
    saga.whenReply('OrderPaymentPendingMarked', ref);
    assert.equal(saga.instance.version, 2);
    saga.whenReply('OrderPaymentPendingMarked', ref, { to: markId }).expectIgnored();
    assert.equal(saga.last.instance.version, 2);
    saga.whenTimeout(); // TIMEOUT + STEP_FAILED + COMPENSATION_SENT are one transition
    assert.equal(saga.instance.version, 3);
  });

  it('transitions never mutate their input', () => {
    const saga = givenSaga(placeOrderFixture, { sagaId: ORDER }).startedWith(DATA);
    const before = saga.instance;
    const snapshot = structuredClone(before);
    saga.whenReply('OrderPaymentPendingMarked', ref);
    assert.deepEqual(before, snapshot);
    assert.notEqual(saga.instance, before);
  });
});

describe('a step done at start', () => {
  const local = defineSaga<{ id: string }>('Local', { timeoutMs: 1_000 })
    .step('markPending', {
      invoke: (d) => ({ participant: 'a.commands', type: 'MarkPending', payload: d }),
      onReply: { PendingMarked: 'success' },
      compensate: { command: (d, f) => ({ participant: 'a.commands', type: 'Fail', payload: { ...d, code: f.code } }), onReply: 'Failed' },
      doneAtStart: true,
    })
    .step('reserve', {
      invoke: (d) => ({ participant: 'b.commands', type: 'Reserve', payload: d }),
      onReply: { Reserved: 'success', NotReserved: 'failure' },
    })
    .build();

  it('is not sent: the saga starts at the next step', () => {
    givenSaga(local, { sagaId: 's' })
      .startedWith({ id: 's' })
      .expectCommand({ participant: 'b.commands', type: 'Reserve' })
      .expectHistory('STARTED', 'COMMAND_SENT')
      .whenReply('Reserved', {})
      .expectStatus('COMPLETED');
  });

  it('is compensated when a later step fails', () => {
    givenSaga(local, { sagaId: 's' })
      .startedWith({ id: 's' })
      .whenReply('NotReserved', { code: 'OUT_OF_STOCK', reason: 'none left' })
      .expectCommand({ participant: 'a.commands', type: 'Fail', payload: { id: 's', code: 'OUT_OF_STOCK' } })
      .expectStatus('COMPENSATING')
      .whenReply('Failed', {})
      .expectStatus('COMPENSATED');
  });

  it('is only allowed for leading steps, and not for every step', () => {
    const ok = { invoke: () => ({ participant: 'p', type: 'A', payload: {} }), onReply: { Ok: 'success' as const } };
    assert.throws(() => defineSaga('X').step('a', ok).step('b', { ...ok, doneAtStart: true }).build(), /only the leading steps can be doneAtStart/);
    assert.throws(() => defineSaga('X').step('a', { ...ok, doneAtStart: true }).build(), /a step that is not doneAtStart/);
  });
});

describe('defineSaga validation', () => {
  const ok = { invoke: () => ({ participant: 'p', type: 'A', payload: {} }), onReply: { Ok: 'success' as const } };

  it('rejects duplicate names, no success reply, compensated steps after a retriable one, compensateOnTimeout without compensate', () => {
    assert.throws(() => defineSaga('X').step('a', ok).step('a', ok).build(), /unique/);
    assert.throws(() => defineSaga('X').step('a', { ...ok, onReply: { No: 'failure' } }).build(), /success reply/);
    assert.throws(
      () => defineSaga('X').step('a', { ...ok, retryUntilSuccess: true }).step('b', ok).build(),
      /only retryUntilSuccess steps may follow/,
    );
    assert.throws(() => defineSaga('X').step('a', { ...ok, compensateOnTimeout: true }).build(), /needs compensate/);
    assert.throws(() => defineSaga('X').build(), /at least one step/);
    assert.throws(() => defineSaga('X').step('a', { ...ok, retry: { maxAttempts: 0, backoffMs: 0 } }).build(), /maxAttempts/);
  });

  it('applies defaults and exposes steps by name', () => {
    const def = defineSaga('X', { timeoutMs: 5 }).step('a', ok).build();
    assert.equal(def.step('a').timeoutMs, 5);
    assert.equal(def.step('a').retry.maxAttempts, 1);
    assert.throws(() => def.step('zzz'), /no step zzz/);
  });
});
