import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bookTrip, type TripMessages } from '../fixtures/book-trip.saga';
import { givenSaga, type ExpectedCommand, type SagaScenario } from './index';

// The type-level test of the scenario DSL: every `@ts-expect-error` below must be an error, or tsc
// fails the build ("unused @ts-expect-error"). The function is compiled, never run.
const ref = { tripId: 't-1' };

export function mistakesThatDoNotCompile(saga: SagaScenario<unknown, TripMessages>): void {
  // @ts-expect-error a misspelled reply type
  saga.whenReply('HotelReserve', ref);
  // @ts-expect-error a wrong payload field (orderId is not a field of HotelReserved)
  saga.whenReply('HotelReserved', { orderId: 't-1' });
  // @ts-expect-error a payload field of the wrong type
  saga.whenReply('CardCharged', { tripId: 't-1', chargeId: 42 });
  // @ts-expect-error a misspelled command type
  saga.expectCommand({ type: 'ChargeCards' });
  // @ts-expect-error a wrong command payload field
  saga.expectCommand({ type: 'ChargeCard', payload: { tripId: 't-1', travelerId: 'x', amountCent: 1 } });
  // @ts-expect-error a misspelled command type among several
  saga.expectCommands({ type: 'ReleaseHotel' }, { type: 'CancelBookin' });
  // @ts-expect-error not a command of this catalogue
  const notACommand: ExpectedCommand<TripMessages> = { type: 'ProcessPayment' };
  void notACommand;
}

describe('typed scenario DSL (compile-time checks against the message catalogue)', () => {
  it('compiles and runs the correct calls: reply types and payloads, command types and payloads', () => {
    const data = { tripId: 't-1', travelerId: 'TRV_1', amountCents: 500 };
    const saga = givenSaga(bookTrip, { sagaId: 't-1' })
      .startedWith(data)
      .expectCommand({ participant: 'booking.commands', type: 'OpenBooking', payload: ref })
      .whenReply('BookingOpened', ref)
      .whenReply('HotelReserved', ref)
      .expectCommand({ type: 'ChargeCard', payload: data })
      .whenReply('CardDeclined', { tripId: 't-1', code: 'DECLINED', reason: 'card declined' })
      .expectCommands({ type: 'ReleaseHotel', payload: ref });
    assert.equal(saga.instance.status, 'COMPENSATING');
    assert.equal(typeof mistakesThatDoNotCompile, 'function');
  });
});
