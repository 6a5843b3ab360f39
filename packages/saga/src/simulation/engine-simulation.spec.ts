import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InMemorySagaStore } from '../in-memory/in-memory-saga-store';
import { SagaEngine } from '../saga-engine';
import type { SagaDefinition } from '../saga-definition';
import { CRASH_POINTS, CrashingSagaStore, SimulatedCrash, describeCrashPoint } from './crashing-saga-store';
import { KNOWN_ENGINE_ISSUES, simulate, simulateSeed } from './engine-simulation';
import type { EngineFactory } from './simulated-engine';
import { SIM_PLACE_ORDER, type SimData } from './simulated-sagas';

/** A definition whose every undoable step is undone on an unknown outcome, compensateOnTimeout or not. */
function compensatingEveryUnknownOutcome<D>(def: SagaDefinition<D>): SagaDefinition<D> {
  const steps = def.steps.map((s) => Object.freeze({ ...s, compensateOnTimeout: s.compensation !== null }));
  return { ...def, steps, step: (name) => steps[def.step(name).index] };
}

/** Broken: compensates a step that timed out (so may never have run) although it is not compensateOnTimeout. */
const compensatesStepsThatNeverRan: EngineFactory = (o) =>
  new SagaEngine({ ...o, definitions: o.definitions.map((d) => compensatingEveryUnknownOutcome(d)) });

/** Broken: every fourth command goes out with the message id of the one before. */
const reusesMessageIds: EngineFactory = (o) => {
  let sent = 0;
  let last: string | null = null;
  const newId = (): string => (++sent % 4 === 0 && last !== null ? last : (last = o.ids.newId()));
  return new SagaEngine({ ...o, ids: { newId } });
};

describe('engine simulation', () => {
  it('1,000 seeds of replies, duplicates, late replies, timeouts, operator actions and crashes keep every invariant', async () => {
    const report = await simulate({ seeds: 1_000, firstSeed: 1, tolerate: KNOWN_ENGINE_ISSUES });
    assert.deepEqual(
      report.failures.slice(0, 3).map((f) => ({ seed: f.seed, violations: f.violations.slice(0, 3) })),
      [],
    );
    assert.equal(report.seedsRun, 1_000);
    // the run did exercise what it claims to
    const s = report.stats;
    for (const key of ['crashes', 'restarts', 'lateOrDuplicateReplies', 'timeouts', 'cancels', 'operatorActions', 'compensationFailed', 'completed', 'compensated'] as const) {
      assert.ok(s[key] > 0, `no ${key} in 1,000 seeds`);
    }
    assert.equal(s.completed + s.compensated, s.sagas, 'every saga ended');
  });

  it('replays a seed exactly: the same seed gives the same trace, another seed another one', async () => {
    const first = await simulateSeed(4242, { trace: true });
    const again = await simulateSeed(4242, { trace: true });
    const other = await simulateSeed(4243, { trace: true });
    assert.ok(first.trace.length > 20);
    assert.deepEqual(again.trace, first.trace);
    assert.deepEqual(again.stats, first.stats);
    assert.notDeepEqual(other.trace, first.trace);
  });

  it('catches an engine that compensates a step that never completed, and names the seed', async () => {
    const report = await simulate({ seeds: 300, engineFactory: compensatesStepsThatNeverRan, maxFailures: 1 });
    const [failure] = report.failures;
    assert.ok(failure, 'the broken engine went unnoticed');
    assert.ok(
      failure.violations.some((v) => v.startsWith('[compensation]') && v.includes('which never completed')),
      failure.violations.join('\n'),
    );
    const replay = await simulateSeed(failure.seed, { engineFactory: compensatesStepsThatNeverRan });
    assert.deepEqual(replay.violations, failure.violations);
  });

  it('catches an engine that sends two commands with one message id', async () => {
    const report = await simulate({ seeds: 300, engineFactory: reusesMessageIds, maxFailures: 1 });
    const [failure] = report.failures;
    assert.ok(failure, 'the broken engine went unnoticed');
    assert.ok(failure.violations.some((v) => v.startsWith('[message-ids]') && v.includes('sent twice')), failure.violations.join('\n'));
    assert.equal(typeof failure.seed, 'number');
  });

  it('finds nothing without tolerance either: every known engine issue is fixed (stale-retry stays fixed)', async () => {
    assert.deepEqual(KNOWN_ENGINE_ISSUES, []);
    const report = await simulate({ seeds: 300, maxFailures: 1 });
    assert.deepEqual(report.failures, []);
  });
});

describe('CrashingSagaStore (the simulation’s unit of work)', () => {
  const data = (sagaId: string): SimData => ({ sagaId, doneSteps: [] });
  const ids = (): { newId: () => string } => {
    let n = 0;
    return { newId: () => `m-${++n}` };
  };

  it('a crash at any point of a unit of work leaves the committed state as it was', async () => {
    for (const point of CRASH_POINTS) {
      const store = new InMemorySagaStore();
      const crashing = new CrashingSagaStore(store);
      const engine = new SagaEngine({ store: crashing, definitions: [SIM_PLACE_ORDER], clock: { now: () => new Date(0) }, ids: ids() });
      const start = { kind: 'start', sagaType: SIM_PLACE_ORDER.type, sagaId: 's1', data: data('s1') } as const;
      await crashing.unitOfWork(null, (tx) => engine.apply(tx, [start]));
      const [sent] = store.history('s1').filter((h) => h.event === 'COMMAND_SENT');
      const reply = { kind: 'reply', sagaId: 's1', reply: { type: 'Done.reserveStock', causationId: String(sent.detail.messageId), payload: {} } } as const;
      const before = { instance: store.get('s1'), history: store.history('s1') };
      // a reply, a start and a timer round: every store method is called once
      const crashed = crashing.unitOfWork(point, async (tx) => [
        ...(await engine.apply(tx, [reply, { ...start, sagaId: 's2', data: data('s2') }])),
        ...(await engine.fireDueTimers(tx)),
      ]);
      await assert.rejects(crashed, SimulatedCrash, describeCrashPoint(point));
      assert.equal(store.get('s1'), before.instance, describeCrashPoint(point));
      assert.equal(store.history('s1'), before.history, describeCrashPoint(point));
      assert.equal(store.get('s2'), undefined, describeCrashPoint(point));
    }
  });
});
