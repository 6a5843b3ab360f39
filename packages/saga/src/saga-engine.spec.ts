import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InMemorySagaStore, type InMemorySagaTx } from './in-memory/in-memory-saga-store';
import { sequentialIds } from './ports/id-generator';
import { SagaConflictError } from './ports/saga-store';
import { SagaEngine, type SagaEvent } from './saga-engine';
import { TRIP_TIMEOUT_MS, bookTrip, type TripData } from './fixtures/book-trip.saga';

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
      store.transaction((tx) => store.update(tx, [{ instance: { ...v1, version: 3 }, expectedVersion: 2 }])),
      SagaConflictError,
    );
    await assert.rejects(store.transaction((tx) => store.insert(tx, [v1])), SagaConflictError);
  });
});
