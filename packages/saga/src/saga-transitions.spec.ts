import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineSaga } from './saga-definition';
import { givenSaga, type ExpectedCommand } from './testing/saga-scenario';
import { TRIP_TIMEOUT_MS, bookTrip, type TripData, type TripMessages } from './fixtures/book-trip.saga';

const TRIP = 'trip-1';
const DATA: TripData = { tripId: TRIP, travelerId: 'TRV_0001', amountCents: 99_999 };
const ref = { tripId: TRIP };
type Expected = ExpectedCommand<TripMessages>;

const OPEN: Expected = { participant: 'booking.commands', type: 'OpenBooking', payload: ref };
const RESERVE: Expected = { participant: 'hotel.commands', type: 'ReserveHotel', payload: ref };
const CHARGE: Expected = {
  participant: 'card.commands',
  type: 'ChargeCard',
  payload: { tripId: TRIP, travelerId: 'TRV_0001', amountCents: 99_999 },
};
const CONFIRM: Expected = { participant: 'booking.commands', type: 'ConfirmBooking', payload: ref };
const VOUCHER: Expected = { participant: 'hotel.commands', type: 'IssueVoucher', payload: ref };
const RELEASE: Expected = { participant: 'hotel.commands', type: 'ReleaseHotel', payload: ref };
const cancelBooking = (code: string, reason: string): Expected => ({
  participant: 'booking.commands',
  type: 'CancelBooking',
  payload: { tripId: TRIP, code, reason },
});

/** A saga that has got through steps 1 and 2 and waits for the card charge (the pivot). */
function awaitingCharge() {
  return givenSaga(bookTrip, { sagaId: TRIP })
    .startedWith(DATA)
    .whenReply('BookingOpened', ref)
    .whenReply('HotelReserved', ref)
    .expectCommand(CHARGE);
}

describe('trip saga: happy path', () => {
  it('sends each step command in order and completes', () => {
    const saga = givenSaga(bookTrip, { sagaId: TRIP })
      .startedWith(DATA)
      .expectCommand(OPEN)
      .expectStatus('RUNNING')
      .expectHistory('STARTED', 'COMMAND_SENT')
      .whenReply('BookingOpened', ref)
      .expectCommand(RESERVE)
      .whenReply('HotelReserved', ref)
      .expectCommand(CHARGE)
      .whenReply('CardCharged', { tripId: TRIP, chargeId: 'ch_trip-1' })
      .expectCommand(CONFIRM)
      .whenReply('BookingConfirmed', ref)
      .expectCommand(VOUCHER)
      .whenReply('VoucherIssued', ref)
      .expectNoCommand()
      .expectStatus('COMPLETED')
      .expectHistory('REPLY', 'COMPLETED');

    const i = saga.instance;
    assert.equal(i.version, 6, 'start + 5 replies');
    assert.equal(i.failure, null);
    assert.deepEqual(i.pendingCommandIds, []);
    assert.equal(i.data.chargeId, 'ch_trip-1', 'the CardCharged reply rule updated the data');
    assert.equal(i.historySize, saga.history.length);
    assert.deepEqual(
      saga.history.map((h) => h.seq),
      saga.history.map((_, n) => n + 1),
      'history seq numbers are 1..n without gaps',
    );
  });

  it('every command gets a fresh message id and the timer follows the step timeout', () => {
    const saga = givenSaga(bookTrip, { sagaId: TRIP }).startedWith(DATA);
    const first = saga.lastCommand.messageId;
    assert.deepEqual(saga.instance.pendingCommandIds, [first]);
    assert.equal(saga.instance.deadlineAt!.getTime(), saga.now.getTime() + TRIP_TIMEOUT_MS);
    saga.whenReply('BookingOpened', ref);
    assert.notEqual(saga.lastCommand.messageId, first);
    assert.deepEqual(saga.instance.pendingCommandIds, [saga.lastCommand.messageId]);
  });
});

describe('trip saga: a failure at each step compensates the done steps in reverse order', () => {
  it('step 1 rejected: nothing to undo, COMPENSATED at once', () => {
    givenSaga(bookTrip, { sagaId: TRIP })
      .startedWith(DATA)
      .whenReply('BookingRejected', { tripId: TRIP, code: 'BOOKING_EXPIRED', reason: 'booking expired' })
      .expectNoCommand()
      .expectStatus('COMPENSATED')
      .expectFailure({ code: 'BOOKING_EXPIRED', reason: 'booking expired', step: 'openBooking' })
      .expectHistory('REPLY', 'STEP_FAILED', 'COMPENSATED');
  });

  it('step 2 no room: CancelBooking carries NO_ROOMS / "no room left on 2026-06-01"', () => {
    givenSaga(bookTrip, { sagaId: TRIP })
      .startedWith(DATA)
      .whenReply('BookingOpened', ref)
      .whenReply('HotelReservationFailed', { tripId: TRIP, code: 'NO_ROOMS', reason: 'no room left on 2026-06-01' })
      .expectCommand(cancelBooking('NO_ROOMS', 'no room left on 2026-06-01'))
      .expectStatus('COMPENSATING')
      .expectFailure({ code: 'NO_ROOMS', reason: 'no room left on 2026-06-01', step: 'reserveHotel' })
      .whenReply('BookingCanceled', ref)
      .expectNoCommand()
      .expectStatus('COMPENSATED')
      .expectFailure({ code: 'NO_ROOMS' });
  });

  it('step 3 (the pivot) declined: ReleaseHotel, then CancelBooking', () => {
    const saga = awaitingCharge()
      .whenReply('CardDeclined', { tripId: TRIP, code: 'INSUFFICIENT_FUNDS', reason: 'limit 500.00 < 999.99' })
      .expectCommand(RELEASE)
      .expectStatus('COMPENSATING')
      .whenReply('HotelReleased', ref)
      .expectCommand(cancelBooking('INSUFFICIENT_FUNDS', 'limit 500.00 < 999.99'))
      .whenReply('BookingCanceled', ref)
      .expectStatus('COMPENSATED');
    assert.deepEqual(
      saga.sent.map((c) => c.type),
      ['OpenBooking', 'ReserveHotel', 'ChargeCard', 'ReleaseHotel', 'CancelBooking'],
      'the pivot failed, so it did not happen: nothing undoes it',
    );
  });

  it('steps 4 and 5 (after the pivot) never compensate: failures and timeouts re-send until success', () => {
    const saga = awaitingCharge()
      .whenReply('CardCharged', { tripId: TRIP, chargeId: 'ch' })
      .expectCommand(CONFIRM)
      .whenTimeout()
      .expectHistory('TIMEOUT', 'RETRY_SCHEDULED')
      .expectNoCommand()
      .expectStatus('RUNNING')
      .whenTimeout()
      .expectHistory('RETRY')
      .expectCommand(CONFIRM)
      .whenReply('BookingConfirmed', ref)
      .expectCommand(VOUCHER);
    // an unexpected failure-ish reply type is not in the rules: ignored, not a failure
    saga.whenReply('HotelReservationFailed', { tripId: TRIP, code: 'X', reason: 'y' }).expectIgnored('does not expect');
    for (let n = 0; n < 20; n++) saga.whenTimeout();
    saga.expectStatus('RUNNING').whenReply('VoucherIssued', ref).expectStatus('COMPLETED');
    assert.equal(saga.instance.failure, null);
    assert.ok(saga.sent.every((c) => !['ReleaseHotel', 'CancelBooking'].includes(c.type)));
  });

  it('a retriable step re-sends after a failure reply, with backoff', () => {
    const def = defineSaga<{ id: string }>('Retriable')
      .retriable('only', {
        invoke: (d) => ({ participant: 'p', type: 'Do', payload: d }),
        onReply: { Done: 'success', NotYet: 'failure' },
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

  it('a retriable step re-sends only on the latest attempt\'s failure: a late or repeated one changes nothing (found by the engine simulation, seed 8)', () => {
    const def = defineSaga<{ id: string }>('Retriable')
      .retriable('only', {
        invoke: (d) => ({ participant: 'p', type: 'Do', payload: d }),
        onReply: { Done: 'success', NotYet: 'failure' },
        retry: { maxAttempts: 1, backoffMs: 100 },
      })
      .build();
    const saga = givenSaga(def).startedWith({ id: 'x' });
    const first = saga.lastCommand.messageId;
    saga.whenReply('NotYet', {}).whenTimeout().expectCommand({ type: 'Do' });
    const second = saga.lastCommand.messageId;
    const deadline = saga.instance.deadlineAt;
    // The first attempt's failure again (a duplicate delivery), while the second is outstanding.
    saga.whenReply('NotYet', {}, { to: first, messageId: 'dup' }).expectIgnored('earlier attempt').expectNoCommand();
    assert.deepEqual([saga.instance.attempt, saga.instance.deadlineKind, saga.instance.deadlineAt], [2, 'REPLY', deadline]);
    // The second attempt's failure schedules one re-send; a repeat of it does not schedule another.
    saga.whenReply('NotYet', {}, { to: second });
    const resendAt = saga.instance.deadlineAt;
    saga.whenReply('NotYet', {}, { to: second, messageId: 'dup-2' }).expectIgnored('re-send is already scheduled');
    assert.deepEqual([saga.instance.deadlineKind, saga.instance.deadlineAt], ['RESEND', resendAt]);
    // A late success of the first attempt still completes the step.
    saga.whenReply('Done', {}, { to: first }).expectStatus('COMPLETED');
  });
});

describe('trip saga: timeouts', () => {
  it('a step is re-sent with a new message id on timeout, then the reply to the re-send completes it', () => {
    const saga = givenSaga(bookTrip, { sagaId: TRIP }).startedWith(DATA);
    const firstId = saga.lastCommand.messageId;
    saga
      .whenTimeout()
      .expectHistory('TIMEOUT', 'RETRY_SCHEDULED')
      .expectNoCommand()
      .whenTimeout()
      .expectCommand(OPEN)
      .expectHistory('RETRY');
    assert.notEqual(saga.lastCommand.messageId, firstId);
    assert.equal(saga.instance.attempt, 2);
    saga.whenReply('BookingOpened', ref).expectCommand(RESERVE);
  });

  it('a late reply to an earlier attempt of the current step still counts (the participant is idempotent)', () => {
    const saga = givenSaga(bookTrip, { sagaId: TRIP }).startedWith(DATA);
    const firstId = saga.lastCommand.messageId;
    saga.whenTimeout().whenTimeout().expectCommand(OPEN);
    saga.whenReply('BookingOpened', ref, { to: firstId }).expectCommand(RESERVE);
  });

  it('the backoff between re-sends doubles', () => {
    const saga = givenSaga(bookTrip, { sagaId: TRIP }).startedWith(DATA).whenTimeout();
    assert.equal(saga.instance.deadlineAt!.getTime() - saga.now.getTime(), 200);
    saga.whenTimeout().whenTimeout();
    assert.equal(saga.instance.deadlineAt!.getTime() - saga.now.getTime(), 400);
  });

  it('with compensateOnTimeout: after the last attempt the step itself is compensated too, code STEP_TIMEOUT', () => {
    givenSaga(bookTrip, { sagaId: TRIP })
      .startedWith(DATA)
      .whenReply('BookingOpened', ref)
      .expectCommand(RESERVE)
      .whenTimeout() // reserveHotel has the default policy: one attempt
      .expectHistory('TIMEOUT', 'STEP_FAILED', 'COMPENSATION_SENT')
      .expectCommand(RELEASE)
      .expectFailure({ code: 'STEP_TIMEOUT', step: 'reserveHotel' })
      .whenReply('HotelReleased', ref)
      .expectCommand(cancelBooking('STEP_TIMEOUT', `reserveHotel got no reply within ${TRIP_TIMEOUT_MS} ms (1 attempt)`))
      .whenReply('BookingCanceled', ref)
      .expectStatus('COMPENSATED');
  });

  it('with compensateOnTimeout on the first step: retries, then CancelBooking for the step itself', () => {
    givenSaga(bookTrip, { sagaId: TRIP })
      .startedWith(DATA)
      .whenTimeout()
      .whenTimeout()
      .whenTimeout()
      .whenTimeout()
      .expectCommand(OPEN) // attempt 3
      .whenTimeout()
      .expectCommand(cancelBooking('STEP_TIMEOUT', `openBooking got no reply within ${TRIP_TIMEOUT_MS} ms (3 attempts)`))
      .whenReply('BookingCanceled', ref)
      .expectStatus('COMPENSATED');
  });

  it('without compensateOnTimeout: only the earlier steps are compensated', () => {
    awaitingCharge()
      .whenTimeout()
      .expectCommand(RELEASE)
      .expectFailure({ code: 'STEP_TIMEOUT', step: 'chargeCard' })
      .whenReply('HotelReleased', ref)
      .expectCommand(cancelBooking('STEP_TIMEOUT', `chargeCard got no reply within ${TRIP_TIMEOUT_MS} ms (1 attempt)`));
  });

  it('a timer fired before it is due changes nothing', () => {
    givenSaga(bookTrip, { sagaId: TRIP })
      .startedWith(DATA)
      .advance(TRIP_TIMEOUT_MS - 1)
      .whenTimerChecked()
      .expectIgnored('is due at');
  });
});

describe('trip saga: late and duplicate replies are ignored idempotently', () => {
  it('a duplicate reply (same causation id) is ignored', () => {
    const saga = givenSaga(bookTrip, { sagaId: TRIP }).startedWith(DATA);
    const markId = saga.lastCommand.messageId;
    saga.whenReply('BookingOpened', ref).expectCommand(RESERVE);
    const version = saga.instance.version;
    saga.whenReply('BookingOpened', ref, { to: markId }).expectIgnored('late or duplicate');
    assert.equal(saga.instance.version, version);
  });

  it('a late success reply after the step timed out and compensation began is ignored', () => {
    const saga = awaitingCharge();
    const payId = saga.lastCommand.messageId;
    saga.whenTimeout().expectCommand(RELEASE);
    saga.whenReply('CardCharged', { tripId: TRIP, chargeId: 'ch' }, { to: payId }).expectIgnored('late or duplicate');
    saga.whenReply('HotelReleased', ref).expectCommand(cancelBooking('STEP_TIMEOUT', saga.instance.failure!.reason));
  });

  it('replies after the saga completed are ignored', () => {
    const saga = awaitingCharge()
      .whenReply('CardCharged', { tripId: TRIP, chargeId: 'ch' })
      .whenReply('BookingConfirmed', ref)
      .whenReply('VoucherIssued', ref)
      .expectStatus('COMPLETED');
    saga.whenReply('VoucherIssued', ref).expectIgnored();
    saga.whenReply('BookingConfirmed', ref, { to: saga.sent[3].messageId }).expectIgnored();
  });

  it('a reply to a command the saga never sent is ignored', () => {
    const saga = givenSaga(bookTrip, { sagaId: TRIP }).startedWith(DATA);
    saga.whenReply('BookingOpened', ref, { to: 'not-a-command-of-this-saga' }).expectIgnored();
  });

  it('a timer of a finished saga does nothing', () => {
    givenSaga(bookTrip, { sagaId: TRIP })
      .startedWith(DATA)
      .whenReply('BookingRejected', { tripId: TRIP, code: 'BOOKING_EXPIRED', reason: 'expired' })
      .whenTimerChecked()
      .expectIgnored('has no timer');
  });
});

describe('trip saga: compensation retries, COMPENSATION_FAILED, operator retry', () => {
  function compensatingHotel() {
    return awaitingCharge()
      .whenReply('CardDeclined', { tripId: TRIP, code: 'ISSUER_UNAVAILABLE', reason: 'card issuer did not answer (5 attempts)' })
      .expectCommand(RELEASE);
  }

  it('re-sends a timed-out compensation with backoff, then COMPENSATION_FAILED without a timer', () => {
    const saga = compensatingHotel()
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
    assert.equal(saga.instance.currentStep, 'reserveHotel');
    saga.expectFailure({ code: 'ISSUER_UNAVAILABLE', step: 'chargeCard' });
  });

  it('the operator retry resumes compensating from the stuck compensation', () => {
    const saga = compensatingHotel().whenTimeout().whenTimeout().whenTimeout().whenTimeout().whenTimeout();
    saga.expectStatus('COMPENSATION_FAILED');
    saga
      .whenOperatorRetries()
      .expectHistory('OPERATOR_RETRY', 'COMPENSATION_SENT')
      .expectCommand(RELEASE)
      .expectStatus('COMPENSATING');
    assert.equal(saga.instance.attempt, 1, 'a new series of attempts');
    saga
      .whenReply('HotelReleased', ref)
      .expectCommand(cancelBooking('ISSUER_UNAVAILABLE', 'card issuer did not answer (5 attempts)'))
      .whenReply('BookingCanceled', ref)
      .expectStatus('COMPENSATED');
  });

  it('a late compensation reply also resumes a COMPENSATION_FAILED saga', () => {
    const saga = compensatingHotel();
    const firstRelease = saga.lastCommand.messageId;
    saga.whenTimeout().whenTimeout().whenTimeout().whenTimeout().whenTimeout().expectStatus('COMPENSATION_FAILED');
    saga.whenReply('HotelReleased', ref, { to: firstRelease }).expectCommand({ type: 'CancelBooking' }).expectStatus('COMPENSATING');
  });

  it('operator retry is refused for any other status', () => {
    compensatingHotel().whenOperatorRetries().expectIgnored('only COMPENSATION_FAILED');
    givenSaga(bookTrip).startedWith(DATA).whenOperatorRetries().expectIgnored('is RUNNING');
  });
});

describe('trip saga: operator cancel and step retry', () => {
  it('a cancel while reserving the hotel fails the step and compensates it and the steps before, newest first', () => {
    const saga = givenSaga(bookTrip, { sagaId: TRIP }).startedWith(DATA).whenReply('BookingOpened', ref);
    const reserveId = saga.lastCommand.messageId;
    saga
      .whenOperatorCancels()
      .expectHistory('OPERATOR_CANCEL', 'STEP_FAILED', 'COMPENSATION_SENT')
      .expectCommand(RELEASE) // reserveHotel is compensateOnTimeout: its outcome is unknown
      .expectStatus('COMPENSATING')
      .expectFailure({ code: 'CANCELED_BY_OPERATOR', step: 'reserveHotel' });
    // The reservation's late reply is ignored; the saga goes on compensating.
    saga.whenReply('HotelReserved', ref, { to: reserveId }).expectIgnored('late or duplicate');
    saga
      .whenReply('HotelReleased', ref)
      .expectCommand(cancelBooking('CANCELED_BY_OPERATOR', 'canceled by an operator during reserveHotel'))
      .whenReply('BookingCanceled', ref)
      .expectStatus('COMPENSATED');
  });

  it('a cancel during a step without compensateOnTimeout compensates only the earlier steps, with the given reason', () => {
    awaitingCharge()
      .whenOperatorCancels('customer asked')
      .expectCommand(RELEASE)
      .expectFailure({ code: 'CANCELED_BY_OPERATOR', reason: 'customer asked', step: 'chargeCard' });
  });

  it('a cancel is refused past the pivot and for a saga that is not RUNNING', () => {
    const placed = awaitingCharge().whenReply('CardCharged', { tripId: TRIP, chargeId: 'ch-1' }).expectCommand(CONFIRM);
    placed.whenOperatorCancels().expectIgnored('past its pivot');
    const compensating = awaitingCharge().whenReply('CardDeclined', { tripId: TRIP, code: 'INSUFFICIENT_FUNDS', reason: 'poor' });
    compensating.whenOperatorCancels().expectIgnored('only a RUNNING saga');
  });

  it('a step retry re-sends the current command as a new attempt; the earlier attempt\'s reply still counts', () => {
    const saga = givenSaga(bookTrip, { sagaId: TRIP }).startedWith(DATA);
    const first = saga.lastCommand.messageId;
    saga.whenOperatorRetriesStep().expectHistory('OPERATOR_RETRY', 'RETRY').expectCommand(OPEN);
    assert.equal(saga.instance.attempt, 2);
    saga.whenReply('BookingOpened', ref, { to: first }).expectCommand(RESERVE);
    awaitingCharge().whenReply('CardDeclined', { tripId: TRIP, code: 'INSUFFICIENT_FUNDS', reason: 'poor' }).whenOperatorRetriesStep().expectIgnored('only a RUNNING step');
  });
});

describe('versions', () => {
  it('start is version 1 and every applied transition adds exactly 1; ignored events add nothing', () => {
    const saga = givenSaga(bookTrip, { sagaId: TRIP }).startedWith(DATA);
    assert.equal(saga.instance.version, 1);
    const markId = saga.lastCommand.messageId;
    saga.whenReply('BookingOpened', ref);
    assert.equal(saga.instance.version, 2);
    saga.whenReply('BookingOpened', ref, { to: markId }).expectIgnored();
    assert.equal(saga.last.instance.version, 2);
    saga.whenTimeout(); // TIMEOUT + STEP_FAILED + COMPENSATION_SENT are one transition
    assert.equal(saga.instance.version, 3);
  });

  it('transitions never mutate their input', () => {
    const saga = givenSaga(bookTrip, { sagaId: TRIP }).startedWith(DATA);
    const before = saga.instance;
    const snapshot = structuredClone(before);
    saga.whenReply('BookingOpened', ref);
    assert.deepEqual(before, snapshot);
    assert.notEqual(saga.instance, before);
  });
});

describe('a step done at start', () => {
  const local = defineSaga<{ id: string }>('Local', { timeoutMs: 1_000 })
    .compensable('markPending', {
      invoke: (d) => ({ participant: 'a.commands', type: 'MarkPending', payload: d }),
      onReply: { PendingMarked: 'success' },
      compensate: { command: (d, f) => ({ participant: 'a.commands', type: 'Fail', payload: { ...d, code: f.code } }), onReply: 'Failed' },
      doneAtStart: true,
    })
    .pivot('reserve', {
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
      .whenReply('NotReserved', { code: 'NO_ROOMS', reason: 'none left' })
      .expectCommand({ participant: 'a.commands', type: 'Fail', payload: { id: 's', code: 'NO_ROOMS' } })
      .expectStatus('COMPENSATING')
      .whenReply('Failed', {})
      .expectStatus('COMPENSATED');
  });
});

describe('a pivot with onUnknownOutcome', () => {
  const pay = defineSaga<{ id: string }>('Pay', { timeoutMs: 1_000 })
    .compensable('hold', {
      invoke: (d) => ({ participant: 'a.commands', type: 'Hold', payload: d }),
      onReply: { Held: 'success' },
      compensate: { command: (d) => ({ participant: 'a.commands', type: 'Unhold', payload: d }), onReply: 'Unheld' },
    })
    .pivot('charge', {
      invoke: (d) => ({ participant: 'b.commands', type: 'Charge', payload: d }),
      onReply: { Charged: 'success', Declined: 'failure' },
      onUnknownOutcome: { command: (d) => ({ participant: 'b.commands', type: 'Refund', payload: d }), onReply: 'Refunded' },
    })
    .retriable('notify', { invoke: (d) => ({ participant: 'c.commands', type: 'Notify', payload: d }), onReply: { Notified: 'success' } })
    .build();

  it('sends it when the pivot times out for good, then compensates the steps before', () => {
    givenSaga(pay)
      .startedWith({ id: 's' })
      .whenReply('Held', {})
      .expectCommand({ type: 'Charge' })
      .whenTimeout()
      .expectCommand({ participant: 'b.commands', type: 'Refund', payload: { id: 's' } })
      .expectFailure({ code: 'STEP_TIMEOUT', step: 'charge' })
      .whenReply('Refunded', {})
      .expectCommand({ type: 'Unhold' })
      .whenReply('Unheld', {})
      .expectStatus('COMPENSATED');
  });

  it('does not send it when the pivot answered: a failure undoes only the steps before, a success goes forward', () => {
    givenSaga(pay).startedWith({ id: 's' }).whenReply('Held', {}).whenReply('Declined', { code: 'NO', reason: 'no' }).expectCommand({ type: 'Unhold' });
    givenSaga(pay).startedWith({ id: 's' }).whenReply('Held', {}).whenReply('Charged', {}).expectCommand({ type: 'Notify' });
  });

  it('sends it on an operator cancel during the pivot', () => {
    givenSaga(pay).startedWith({ id: 's' }).whenReply('Held', {}).whenOperatorCancels().expectCommand({ type: 'Refund' });
  });
});
