import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InMemorySagaStore } from './in-memory/in-memory-saga-store';
import { sequentialIds } from './ports/id-generator';
import { defineSaga, type CompensableStepSpec, type PivotStepSpec, type RetriableStepSpec } from './saga-definition';
import { SagaEngine, type SagaEvent } from './saga-engine';
import { givenSaga } from './testing/saga-scenario';

// The README's tutorial, compiled and run: every code block of the tutorial is a region of this
// file (`// tutorial:<name>` … `// end`), and the last test fails if the README and this file differ.

// tutorial:define
type Rental = { rentalId: string; carId: string; driverId: string; depositCents: number };
type Ref = { rentalId: string };
type Refusal = Ref & { code: string; reason: string };
type RentalMessages = {
  ReserveCar: Ref & { carId: string }; CarReserved: Ref; CarUnavailable: Refusal;
  ReleaseCar: Ref; CarReleased: Ref;
  ChargeDeposit: Ref & { amountCents: number }; DepositCharged: Ref; DepositDeclined: Refusal;
  SendKeys: Ref; KeysSent: Ref;
  CheckLicense: Ref & { driverId: string }; LicenseValid: Ref; LicenseInvalid: Refusal;
};

const reserveCar: CompensableStepSpec<Rental, RentalMessages> = {
  invoke: (r) => ({ participant: 'fleet.commands', type: 'ReserveCar', payload: { rentalId: r.rentalId, carId: r.carId } }),
  onReply: { CarReserved: 'success', CarUnavailable: 'failure' },
  compensate: { command: (r) => ({ participant: 'fleet.commands', type: 'ReleaseCar', payload: { rentalId: r.rentalId } }), onReply: 'CarReleased' },
  compensateOnTimeout: true, // no answer: the car may be reserved, release it
  retry: { maxAttempts: 2, backoffMs: 1_000 },
};
const chargeDeposit: PivotStepSpec<Rental, RentalMessages> = {
  invoke: (r) => ({ participant: 'billing.commands', type: 'ChargeDeposit', payload: { rentalId: r.rentalId, amountCents: r.depositCents } }),
  onReply: { DepositCharged: 'success', DepositDeclined: 'failure' },
};
const sendKeys: RetriableStepSpec<Rental, RentalMessages> = {
  invoke: (r) => ({ participant: 'fleet.commands', type: 'SendKeys', payload: { rentalId: r.rentalId } }),
  onReply: { KeysSent: 'success' },
};

export const rentCarV1 = defineSaga<Rental, RentalMessages>('RentCar', { timeoutMs: 5_000 })
  .compensable('reserveCar', reserveCar)
  .pivot('chargeDeposit', chargeDeposit)
  .retriable('sendKeys', sendKeys)
  .build();
// end

// tutorial:v2
export const rentCarV2 = defineSaga<Rental, RentalMessages>('RentCar', { version: 2, timeoutMs: 5_000 })
  .compensable('checkLicense', {
    invoke: (r) => ({ participant: 'licenses.commands', type: 'CheckLicense', payload: { rentalId: r.rentalId, driverId: r.driverId } }),
    onReply: { LicenseValid: 'success', LicenseInvalid: 'failure' },
    compensate: 'none', // a read: nothing to undo
  })
  .compensable('reserveCar', reserveCar)
  .pivot('chargeDeposit', chargeDeposit)
  .retriable('sendKeys', sendKeys)
  .build();
// end

const rental: Rental = { rentalId: 'r-1', carId: 'CAR_7', driverId: 'DRV_1', depositCents: 30_000 };
const ref = { rentalId: 'r-1' };

describe('tutorial (packages/saga/README.md)', () => {
  // tutorial:test
  it('happy path: reserve, charge, send the keys', () => {
    givenSaga(rentCarV1, { sagaId: 'r-1' })
      .startedWith(rental)
      .expectCommand({ participant: 'fleet.commands', type: 'ReserveCar', payload: { rentalId: 'r-1', carId: 'CAR_7' } })
      .whenReply('CarReserved', ref)
      .expectCommand({ type: 'ChargeDeposit', payload: { rentalId: 'r-1', amountCents: 30_000 } })
      .whenReply('DepositCharged', ref)
      .expectCommand({ type: 'SendKeys' })
      .whenReply('KeysSent', ref)
      .expectStatus('COMPLETED');
  });

  it('a declined deposit releases the car', () => {
    givenSaga(rentCarV1, { sagaId: 'r-1' })
      .startedWith(rental)
      .whenReply('CarReserved', ref)
      .whenReply('DepositDeclined', { rentalId: 'r-1', code: 'CARD_DECLINED', reason: 'card declined' })
      .expectCommand({ type: 'ReleaseCar', payload: ref })
      .whenReply('CarReleased', ref)
      .expectStatus('COMPENSATED')
      .expectFailure({ code: 'CARD_DECLINED', step: 'chargeDeposit' });
  });

  it('a silent fleet, on a virtual clock: re-sent once after its backoff, then released', () => {
    const saga = givenSaga(rentCarV1, { sagaId: 'r-1' }).startedWith(rental);
    saga.advance(4_999).whenTimerChecked().expectIgnored('is due at'); // 1 ms early: nothing happens
    saga.whenTimeout().expectHistory('TIMEOUT', 'RETRY_SCHEDULED'); // the clock jumps to the deadline
    saga.whenTimeout().expectCommand({ type: 'ReserveCar' }); // backoff over: attempt 2
    saga.whenTimeout().expectCommand({ type: 'ReleaseCar' }).expectFailure({ code: 'STEP_TIMEOUT', step: 'reserveCar' });
  });
  // end

  it('runs on an engine, and a v2 deploy leaves v1 sagas on v1', async () => {
    // tutorial:engine
    const store = new InMemorySagaStore(); // apps/orchestrator: PgSagaStore, in the consumer's transaction
    const clock = { now: () => new Date('2026-01-01T00:00:00Z') };
    const v1Only = new SagaEngine({ store, definitions: [rentCarV1], clock, ids: sequentialIds('a') });
    const apply = (engine: SagaEngine<unknown>, events: SagaEvent[]) => store.transaction((tx) => engine.apply(tx, events));

    const [started] = await apply(v1Only, [{ kind: 'start', sagaType: 'RentCar', sagaId: 'r-1', data: rental }]);
    // publish started.commands (through an outbox, in the same transaction); feed each reply back:
    const reserve = started.commands[0];
    const [reserved] = await apply(v1Only, [{ kind: 'reply', sagaId: 'r-1', reply: { type: 'CarReserved', causationId: reserve.messageId, payload: ref } }]);
    assert.equal(reserved.commands[0].type, 'ChargeDeposit');
    // and fire the durable timers now and then (a poller; none is due yet):
    assert.deepEqual(await store.transaction((tx) => v1Only.fireDueTimers(tx)), []);
    // end

    // tutorial:deploy
    // The deploy: both versions registered. New sagas start on the latest (v2) ...
    const deployed = new SagaEngine({ store, definitions: [rentCarV1, rentCarV2], clock, ids: sequentialIds('b') });
    const [r2] = await apply(deployed, [{ kind: 'start', sagaType: 'RentCar', sagaId: 'r-2', data: { ...rental, rentalId: 'r-2' } }]);
    assert.equal(r2.commands[0].type, 'CheckLicense');
    assert.equal(store.get('r-2')?.definitionVersion, 2);
    // ... while r-1, started on v1, finishes on v1 (it never gets a CheckLicense).
    const charge = store.get('r-1')!.pendingCommandIds.at(-1)!;
    const [charged] = await apply(deployed, [{ kind: 'reply', sagaId: 'r-1', reply: { type: 'DepositCharged', causationId: charge, payload: ref } }]);
    assert.equal(charged.commands[0].type, 'SendKeys');
    assert.equal(store.get('r-1')?.definitionVersion, 1);

    // Drop v1 too early and r-1 is not crashed on, nor skipped: its events come back `parked`.
    const v2Only = new SagaEngine({ store, definitions: [rentCarV2], clock, ids: sequentialIds('c') });
    const keys = charged.commands[0].messageId;
    const [waiting] = await apply(v2Only, [{ kind: 'reply', sagaId: 'r-1', reply: { type: 'KeysSent', causationId: keys, payload: ref } }]);
    assert.match(waiting.parked ?? '', /RentCar v1, a version that is not registered/);
    // Keep waiting.event (the orchestrator stores it) and apply it once v1 is registered again:
    const [done] = await apply(deployed, [waiting.event]);
    assert.equal(done.instance?.status, 'COMPLETED');
    // end
  });

  it('the README quotes every region of this file, verbatim', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const source = readFileSync(join(__dirname, '..', 'src', 'tutorial.spec.ts'), 'utf8');
    const regions = [...source.matchAll(/^( *)\/\/ tutorial:(\w+)\n([\s\S]*?)^ *\/\/ end$/gm)];
    assert.deepEqual(regions.map((r) => r[2]), ['define', 'v2', 'test', 'engine', 'deploy']);
    for (const [, indent, name, body] of regions) {
      const code = body.split('\n').map((l) => l.slice(indent.length)).join('\n').trimEnd();
      assert.ok(readme.includes(`<!-- tutorial:${name} -->\n\`\`\`ts\n${code}\n\`\`\``), `README.md quotes the ${name} region of src/tutorial.spec.ts as it is`);
    }
  });
});
