import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { SagaAdmission } from './admission';

/** A response that closes on demand. */
function response(): ServerResponse & { finish(): void } {
  const res = new EventEmitter() as ServerResponse & { finish(): void; closed: boolean };
  res.closed = false;
  res.finish = () => {
    res.closed = true;
    res.emit('close');
  };
  return res;
}

describe('SagaAdmission', () => {
  it('passes maxInFlight calls, queues the next in order, refuses past the queue, and admits as slots free', async () => {
    const gate = new SagaAdmission({ maxInFlight: 2, maxQueued: 2 });
    const [a, b, c, d, e] = Array.from({ length: 5 }, response);
    assert.equal(await gate.admit(a), true);
    assert.equal(await gate.admit(b), true);
    const order: string[] = [];
    const waitC = gate.admit(c).then((ok) => (order.push('c'), ok));
    const waitD = gate.admit(d).then((ok) => (order.push('d'), ok));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual([gate.inFlight, gate.queued], [2, 2]);
    assert.equal(await gate.admit(e), false, 'the queue is full: turned away at once');
    a.finish();
    assert.equal(await waitC, true);
    assert.deepEqual(order, ['c'], 'd still waits for a slot');
    b.finish();
    assert.equal(await waitD, true);
    assert.deepEqual(order, ['c', 'd']);
  });

  it('gives the slot of a client that left while it waited to the next one', async () => {
    const gate = new SagaAdmission({ maxInFlight: 1, maxQueued: 10 });
    const [a, gone, next] = Array.from({ length: 3 }, response);
    assert.equal(await gate.admit(a), true);
    const waitGone = gate.admit(gone);
    const waitNext = gate.admit(next);
    gone.finish();
    a.finish();
    assert.equal(await waitGone, false);
    assert.equal(await waitNext, true);
    assert.equal(gate.inFlight, 1);
  });
});
