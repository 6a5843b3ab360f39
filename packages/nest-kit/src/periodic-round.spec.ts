import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { PeriodicRound } from './periodic-round';

describe('PeriodicRound', () => {
  it('runs rounds one at a time, at once again while `again` accepts the result, and hands failures to onError', async () => {
    const results = [5, 5, 1, 'fail', 0];
    const seen: (number | string)[] = [];
    const errors: unknown[] = [];
    let inFlight = 0;
    const rounds = new PeriodicRound<number>(
      async () => {
        assert.equal(inFlight++, 0, 'never two rounds at once');
        await delay(5);
        inFlight--;
        const next = results.shift() ?? 0;
        seen.push(next);
        if (next === 'fail') throw new Error('boom');
        return next as number;
      },
      { intervalMs: 20, onError: (err) => errors.push(err), again: (n) => n >= 5 },
    );
    rounds.start(0);
    for (let i = 0; i < 200 && seen.length < 5; i++) await delay(10);
    await rounds.stop();
    assert.deepEqual(seen.slice(0, 5), [5, 5, 1, 'fail', 0]);
    assert.equal(errors.length, 1);
    const after = seen.length;
    await delay(60);
    assert.equal(seen.length, after, 'no round after stop');
  });

  it('stop waits for the round in hand', async () => {
    let finished = false;
    const rounds = new PeriodicRound(async () => {
      await delay(30);
      finished = true;
    }, { intervalMs: 1_000, onError: () => undefined });
    rounds.start(0);
    await delay(5);
    await rounds.stop();
    assert.equal(finished, true);
  });
});
