import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { preferredWait } from './prefer-wait';

describe('preferredWait (Prefer header of a saga-starting call)', () => {
  it('waits the service bound when the client states no preference', () => {
    assert.deepEqual(preferredWait(undefined, 10_000), { waitMs: 10_000, applied: undefined });
    assert.deepEqual(preferredWait('return=minimal', 10_000), { waitMs: 10_000, applied: undefined });
    assert.deepEqual(preferredWait('wait=abc', 10_000), { waitMs: 10_000, applied: undefined });
  });

  it('answers at once for respond-async, whatever else is asked', () => {
    assert.deepEqual(preferredWait('respond-async', 10_000), { waitMs: 0, applied: 'respond-async' });
    assert.deepEqual(preferredWait('wait=5, Respond-Async', 10_000), { waitMs: 0, applied: 'respond-async' });
  });

  it('waits the asked seconds, never longer than the service bound', () => {
    assert.deepEqual(preferredWait('wait=2', 10_000), { waitMs: 2_000, applied: 'wait=2' });
    assert.deepEqual(preferredWait('wait=0', 10_000), { waitMs: 0, applied: 'wait=0' });
    assert.deepEqual(preferredWait('wait=600', 10_000), { waitMs: 10_000, applied: 'wait=10' });
  });
});
