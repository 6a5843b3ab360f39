import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineSaga } from './saga-definition';

const ok = { invoke: () => ({ participant: 'p', type: 'A', payload: {} }), onReply: { Ok: 'success' as const } };
const undo = { command: () => ({ participant: 'p', type: 'Undo', payload: {} }), onReply: 'Undone' };
const compensable = { ...ok, compensate: undo };

/** `build` throws an Error whose message names `step` and says `rule`. */
function assertRejected(build: () => unknown, step: string, rule: string): void {
  assert.throws(build, (e: unknown) => {
    assert.ok(e instanceof Error, 'an Error');
    assert.ok(e.message.includes(`step ${step}: ${rule}`), `"${e.message}" names step ${step} and says "${rule}"`);
    return true;
  });
}

describe('step kinds: build() accepts compensable steps, at most one pivot, then retriable steps', () => {
  it('accepts the full order and every part of it alone', () => {
    const def = defineSaga('X').compensable('a', compensable).compensable('b', compensable).pivot('c', ok).retriable('d', ok).retriable('e', ok).build();
    assert.deepEqual(def.steps.map((s) => [s.name, s.kind]), [['a', 'compensable'], ['b', 'compensable'], ['c', 'pivot'], ['d', 'retriable'], ['e', 'retriable']]);
    defineSaga('X').compensable('a', compensable).build();
    defineSaga('X').pivot('a', ok).build();
    defineSaga('X').retriable('a', ok).build();
    defineSaga('X').compensable('a', compensable).pivot('b', ok).build();
    defineSaga('X').pivot('a', ok).retriable('b', ok).build();
  });

  it('rejects a compensable step after the pivot, naming it', () => {
    assertRejected(
      () => defineSaga('X').pivot('pay', ok).compensable('reserve', compensable).build(),
      'reserve',
      'a compensable step cannot follow the pivot pay',
    );
  });

  it('rejects a retriable step before the pivot, naming it', () => {
    assertRejected(
      () => defineSaga('X').retriable('confirm', ok).pivot('pay', ok).build(),
      'confirm',
      'a retriable step cannot come before the pivot pay',
    );
  });

  it('rejects a pivot that has a compensation, naming it', () => {
    // A spec built apart from the call escapes the compile-time check; build() still catches it.
    const withCompensation = { ...ok, compensate: undo };
    assertRejected(() => defineSaga('X').pivot('pay', withCompensation).build(), 'pay', 'a pivot has no compensation');
  });

  it('rejects a second pivot, naming it', () => {
    assertRejected(
      () => defineSaga('X').pivot('pay', ok).pivot('ship', ok).build(),
      'ship',
      'a saga has at most one pivot, and pay is already it',
    );
  });

  it('rejects a compensable step without compensation, naming it', () => {
    const withoutCompensation = { ...ok } as typeof compensable;
    assertRejected(() => defineSaga('X').compensable('reserve', withoutCompensation).build(), 'reserve', 'a compensable step needs compensate');
  });

  it("accepts a compensable step with nothing to undo only when it says so (compensate: 'none')", () => {
    const def = defineSaga('X').compensable('validate', { ...ok, compensate: 'none' }).pivot('pay', ok).build();
    assert.equal(def.step('validate').compensation, null);
    assertRejected(
      () => defineSaga('X').compensable('validate', { ...ok, compensate: 'none', compensateOnTimeout: true }).build(),
      'validate',
      'compensateOnTimeout needs a compensation',
    );
  });

  it('rejects a retriable step with a way to be undone, naming it', () => {
    const withCompensation = { ...ok, compensate: undo };
    assertRejected(() => defineSaga('X').retriable('confirm', withCompensation).build(), 'confirm', 'a retriable step is never undone, so it has no compensate');
  });

  it('rejects retriable steps after compensable ones in a saga without a pivot, naming the retriable step', () => {
    assertRejected(
      () => defineSaga('X').compensable('reserve', compensable).retriable('confirm', ok).build(),
      'confirm',
      'a retriable step follows a pivot',
    );
  });

  it('rejects an option of another kind, such as the former retryUntilSuccess', () => {
    const legacy = { ...ok, retryUntilSuccess: true };
    assertRejected(() => defineSaga('X').retriable('confirm', legacy).build(), 'confirm', 'a retriable step has no option retryUntilSuccess');
    const pivotAtStart = { ...ok, doneAtStart: true };
    assertRejected(() => defineSaga('X').pivot('pay', pivotAtStart).build(), 'pay', 'a pivot step has no option doneAtStart');
  });

  it('lists every problem in one Error', () => {
    assert.throws(
      () => defineSaga('X').retriable('r', ok).pivot('p1', ok).pivot('p2', ok).build(),
      /^Error: saga X: step r: a retriable step cannot come before the pivot p1.*; step p2: a saga has at most one pivot/,
    );
  });
});

describe('doneAtStart: only leading compensable steps', () => {
  it('is only allowed for leading steps, and not for every step', () => {
    assertRejected(
      () => defineSaga('X').compensable('a', compensable).compensable('b', { ...compensable, doneAtStart: true }).pivot('c', ok).build(),
      'b',
      'only the leading steps can be doneAtStart',
    );
    assert.throws(() => defineSaga('X').compensable('a', { ...compensable, doneAtStart: true }).build(), /a step that is not doneAtStart/);
  });
});

describe('defineSaga validation', () => {
  it('rejects duplicate names, no success reply, no step, a bad retry policy', () => {
    assertRejected(() => defineSaga('X').compensable('a', compensable).pivot('a', ok).build(), 'a', 'step names must be unique');
    assertRejected(() => defineSaga('X').pivot('a', { ...ok, onReply: { No: 'failure' } }).build(), 'a', 'needs a success reply');
    assert.throws(() => defineSaga('X').build(), /at least one step/);
    assertRejected(() => defineSaga('X').pivot('a', { ...ok, retry: { maxAttempts: 0, backoffMs: 0 } }).build(), 'a', 'retry.maxAttempts must be ≥ 1');
  });

  it('applies defaults and exposes steps by name', () => {
    const def = defineSaga('X', { timeoutMs: 5 }).pivot('a', ok).retriable('b', ok).build();
    assert.equal(def.step('a').timeoutMs, 5);
    assert.equal(def.step('a').retry.maxAttempts, 1);
    assert.equal(def.step('b').retry.backoffMs, 1_000, 'a retriable step backs off by default');
    assert.equal(def.step('a').compensation, null);
    assert.throws(() => def.step('zzz'), /no step zzz/);
  });
});

describe('definition versions', () => {
  it('is version 1 unless given; a version is an integer ≥ 1', () => {
    assert.equal(defineSaga('X').pivot('a', ok).build().version, 1);
    assert.equal(defineSaga('X', { version: 3 }).pivot('a', ok).build().version, 3);
    for (const version of [0, -1, 1.5]) {
      assert.throws(() => defineSaga('X', { version }).pivot('a', ok).build(), /version must be an integer ≥ 1/);
    }
  });
});
