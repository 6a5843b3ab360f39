import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InMemorySagaStore, type InMemorySagaTx } from './in-memory/in-memory-saga-store';
import { sequentialIds } from './ports/id-generator';
import { SagaConflictError } from './ports/saga-store';
import { SagaEngine, type SagaEvent, type SagaEventOutcome } from './saga-engine';
import type { SagaInstance } from './saga-instance';
import { onTimeout } from './saga-transitions';
import { TRIP_TIMEOUT_MS, bookTrip, bookTripV2, type TripData } from './fixtures/book-trip.saga';

function setup() {
  const store = new InMemorySagaStore();
  let now = new Date('2026-01-01T00:00:00Z');
  const clock = { now: () => now };
  const engine = new SagaEngine<InMemorySagaTx>({ store, definitions: [bookTrip], clock, ids: sequentialIds('m') });
  const run = (events: SagaEvent[]) => store.transaction((tx) => engine.apply(tx, events));
  const advance = (ms: number) => (now = new Date(now.getTime() + ms));
  return { store, engine, run, advance };
}

const data = (tripId: string): TripData => ({ tripId, travelerId: 'TRV_0001', amountCents: 1000 });
const startEvent = (id: string): SagaEvent => ({ kind: 'start', sagaType: 'BookTrip', sagaId: id, data: data(id) });
const reply = (sagaId: string, type: string, causationId: string): SagaEvent => ({
  kind: 'reply',
  sagaId,
  reply: { type, causationId, payload: { tripId: sagaId } },
});

describe('SagaEngine (runner over the in-memory store)', () => {
  it('given a batch of starts, when applied, inserts every instance and returns each first command', async () => {
    const { store, run } = setup();
    const outcomes = await run([startEvent('o-1'), startEvent('o-2')]);
    assert.deepEqual(
      outcomes.map((o) => o.commands.map((c) => `${c.sagaId}:${c.type}`)),
      [['o-1:OpenBooking'], ['o-2:OpenBooking']],
    );
    assert.equal(store.get('o-1')?.status, 'RUNNING');
    assert.deepEqual(store.history('o-2').map((h) => h.event), ['STARTED', 'COMMAND_SENT']);
  });

  it('applies several events of one saga in one batch in order, writing one new version', async () => {
    const { store, run } = setup();
    const [started] = await run([startEvent('o-1')]);
    const openId = started.commands[0].messageId;
    // the reply, then a duplicate of it, in the same batch
    const outcomes = await run([reply('o-1', 'BookingOpened', openId), reply('o-1', 'BookingOpened', openId)]);
    assert.equal(outcomes[0].commands[0].type, 'ReserveHotel');
    assert.match(outcomes[1].ignored ?? '', /late or duplicate/);
    assert.equal(store.get('o-1')?.version, 2);
    assert.equal(store.history('o-1').length, store.get('o-1')?.historySize);
  });

  it('ignores a second start of an existing saga and replies for unknown sagas', async () => {
    const { store, run } = setup();
    await run([startEvent('o-1')]);
    const [again, unknown] = await run([startEvent('o-1'), reply('nope', 'HotelReserved', 'x')]);
    assert.match(again.ignored ?? '', /already exists/);
    assert.equal(unknown.instance, null);
    assert.match(unknown.ignored ?? '', /unknown saga/);
    assert.equal(store.get('o-1')?.version, 1);
  });

  it('fires due timers only, and re-sends', async () => {
    const { store, engine, run, advance } = setup();
    await run([startEvent('o-1')]);
    advance(TRIP_TIMEOUT_MS - 1);
    await run([startEvent('o-2')]);
    advance(1);
    const fired = await store.transaction((tx) => engine.fireDueTimers(tx, 10));
    assert.deepEqual(fired.map((o) => o.event.sagaId), ['o-1']);
    assert.equal(store.get('o-1')?.deadlineKind, 'RESEND');
    advance(200);
    const resent = await store.transaction((tx) => engine.fireDueTimers(tx, 10));
    assert.deepEqual(resent.map((o) => o.commands.map((c) => c.type)), [['OpenBooking']]);
    assert.equal(store.get('o-1')?.attempt, 2);
  });

  it('the operator retry event resumes a COMPENSATION_FAILED saga and is refused otherwise', async () => {
    const { store, engine, run, advance } = setup();
    const [s] = await run([startEvent('o-1')]);
    const [r] = await run([reply('o-1', 'BookingOpened', s.commands[0].messageId)]);
    const [f] = await run([
      { kind: 'reply', sagaId: 'o-1', reply: { type: 'HotelReservationFailed', causationId: r.commands[0].messageId, payload: { code: 'NO_ROOMS', reason: 'no room left' } } },
    ]);
    assert.equal(f.commands[0].type, 'CancelBooking');
    const [refused] = await run([{ kind: 'retryCompensation', sagaId: 'o-1' }]);
    assert.match(refused.ignored ?? '', /only COMPENSATION_FAILED/);
    for (let n = 0; n < 5; n++) {
      advance(60_000);
      await store.transaction((tx) => engine.fireDueTimers(tx, 10));
    }
    assert.equal(store.get('o-1')?.status, 'COMPENSATION_FAILED');
    const [retried] = await run([{ kind: 'retryCompensation', sagaId: 'o-1' }]);
    assert.deepEqual(retried.commands.map((c) => c.payload), [{ tripId: 'o-1', code: 'NO_ROOMS', reason: 'no room left' }]);
    assert.equal(store.get('o-1')?.status, 'COMPENSATING');
  });

  it('a throw inside the unit of work rolls back instances and history', async () => {
    const { store, engine } = setup();
    await assert.rejects(
      store.transaction(async (tx) => {
        await engine.apply(tx, [startEvent('o-1')]);
        throw new Error('outbox write failed');
      }),
      /outbox write failed/,
    );
    assert.equal(store.get('o-1'), undefined);
    assert.deepEqual(store.history('o-1'), []);
  });
});

describe('InMemorySagaStore conflicts', () => {
  it('refuses an update from a stale version and an insert of an existing id', async () => {
    const { store, run } = setup();
    await run([startEvent('o-1')]);
    const v1 = store.get('o-1')!;
    await assert.rejects(
      store.transaction((tx) => store.save(tx, { inserts: [], updates: [{ instance: { ...v1, version: 3 }, expectedVersion: 2 }], history: [] })),
      SagaConflictError,
    );
    await assert.rejects(store.transaction((tx) => store.save(tx, { inserts: [v1], updates: [], history: [] })), SagaConflictError);
  });
});

describe('SagaEngine: versioned definitions', () => {
  function versioned(definitions = [bookTrip, bookTripV2], store = new InMemorySagaStore()) {
    let now = new Date('2026-01-01T00:00:00Z');
    const engine = new SagaEngine<InMemorySagaTx>({ store, definitions, clock: { now: () => now }, ids: sequentialIds(`m${definitions.length}`) });
    const run = (events: SagaEvent[]) => store.transaction((tx) => engine.apply(tx, events));
    const advance = (ms: number) => (now = new Date(now.getTime() + ms));
    return { store, engine, run, advance };
  }
  /** Answers every command of the saga with its success reply until it completes. */
  async function drive(run: (e: SagaEvent[]) => Promise<SagaEventOutcome[]>, sagaId: string, first: SagaEventOutcome) {
    const answers: Record<string, string> = {
      OpenBooking: 'BookingOpened', ReserveHotel: 'HotelReserved', ChargeCard: 'CardCharged',
      ConfirmBooking: 'BookingConfirmed', IssueVoucher: 'VoucherIssued', SendItinerary: 'ItinerarySent',
    };
    const sent: string[] = [];
    let last = first;
    while (last.commands.length > 0) {
      const c = last.commands[0];
      sent.push(c.type);
      [last] = await run([{ kind: 'reply', sagaId, reply: { type: answers[c.type], causationId: c.messageId, payload: { tripId: sagaId, chargeId: 'ch-1' } } }]);
    }
    return sent;
  }

  it('starts a new saga on the latest version and records it on the instance', async () => {
    const { store, engine, run } = versioned([bookTripV2, bookTrip]);
    assert.equal(engine.definition('BookTrip').version, 2);
    assert.equal(engine.definition('BookTrip', 1), bookTrip);
    const [started] = await run([startEvent('t-1')]);
    assert.equal(store.get('t-1')?.definitionVersion, 2);
    assert.deepEqual(await drive(run, 't-1', started), ['OpenBooking', 'ReserveHotel', 'ChargeCard', 'ConfirmBooking', 'IssueVoucher', 'SendItinerary']);
    assert.equal(store.get('t-1')?.status, 'COMPLETED');
  });

  it('advances every instance on its own version: a v1 saga started before v2 was registered ends on v1 steps', async () => {
    const store = new InMemorySagaStore();
    const before = versioned([bookTrip], store);
    const [v1] = await before.run([startEvent('t-1')]);
    const after = versioned([bookTrip, bookTripV2], store); // the deploy of v2: same store, both versions
    const [v2] = await after.run([startEvent('t-2')]);
    // the v1 saga's reply goes to the engine that has both versions
    assert.deepEqual(await drive(after.run, 't-1', v1), ['OpenBooking', 'ReserveHotel', 'ChargeCard', 'ConfirmBooking', 'IssueVoucher']);
    assert.deepEqual(await drive(after.run, 't-2', v2), ['OpenBooking', 'ReserveHotel', 'ChargeCard', 'ConfirmBooking', 'IssueVoucher', 'SendItinerary']);
    assert.deepEqual([store.get('t-1')?.definitionVersion, store.get('t-2')?.definitionVersion], [1, 2]);
  });

  it('refuses to register a type and version twice', () => {
    assert.throws(() => versioned([bookTrip, bookTrip]), /BookTrip v1 is registered twice/);
  });

  it('an instance whose version is not registered is neither thrown on nor skipped: its events are parked, its timer waits', async () => {
    const store = new InMemorySagaStore();
    const old = versioned([bookTrip], store);
    const [started] = await old.run([startEvent('t-1')]);
    const v1 = store.get('t-1')!;
    const only2 = versioned([bookTripV2], store); // v1 unregistered
    assert.equal(only2.engine.isRegistered('BookTrip', 1), false);
    const answer: SagaEvent = reply('t-1', 'BookingOpened', started.commands[0].messageId);
    const outcomes = await only2.run([answer, { kind: 'cancel', sagaId: 't-1' }, { kind: 'retryStep', sagaId: 't-1' }]);
    for (const o of outcomes) {
      assert.match(o.parked ?? '', /BookTrip v1, a version that is not registered/);
      assert.equal(o.ignored, undefined, 'parked, not ignored: the caller keeps the event');
      assert.deepEqual(o.commands, []);
      assert.equal(o.instance, v1);
    }
    assert.equal(store.get('t-1'), v1, 'unchanged');
    // its timer is due but not claimed (and does not starve the others)
    only2.advance(TRIP_TIMEOUT_MS * 10);
    await only2.run([startEvent('t-2')]);
    only2.advance(TRIP_TIMEOUT_MS);
    const fired = await store.transaction((tx) => only2.engine.fireDueTimers(tx, 1));
    assert.deepEqual(fired.map((o) => o.event.sagaId), ['t-2']);
    // v1 registered again: the kept reply resumes the saga where it was
    const back = versioned([bookTrip, bookTripV2], store);
    const [resumed] = await back.run([answer]);
    assert.equal(resumed.parked, undefined);
    assert.deepEqual(resumed.commands.map((c) => c.type), ['ReserveHotel']);
    assert.equal(store.get('t-1')?.definitionVersion, 1);
  });

  it('a transition refuses a definition of another version than the instance', async () => {
    const { store, run } = versioned([bookTrip]);
    await run([startEvent('t-1')]);
    assert.throws(
      () => onTimeout(bookTripV2, store.get('t-1') as SagaInstance<TripData>, { now: new Date('2027-01-01T00:00:00Z'), ids: sequentialIds() }),
      /BookTrip v1; it cannot be advanced by BookTrip v2/,
    );
  });
});
