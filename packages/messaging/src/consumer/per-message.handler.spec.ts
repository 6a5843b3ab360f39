import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Transaction } from '@saga/postgres';
import { newEnvelope, toTopic } from '../envelope';
import type { IncomingMessage } from '../ports';
import { perMessage } from './per-message.handler';

function incoming(n: number): IncomingMessage {
  return { topic: 't', partition: 0, offset: String(n), key: 'k', envelope: newEnvelope('ConfirmOrder', { orderId: `o${n}` }, { sagaId: 'k' }) };
}

describe('perMessage', () => {
  const tx: Transaction = { query: async () => ({ rows: [], rowCount: 0 }), queue: () => undefined };

  it('handles messages one after the other in order and concatenates what they publish', async () => {
    const seen: string[] = [];
    let running = 0;
    const handle = perMessage<string>(async (t, m, c) => {
      assert.equal(t, tx);
      assert.equal(c, 'ctx');
      running++;
      assert.equal(running, 1, 'messages must not overlap');
      await new Promise((r) => setImmediate(r));
      running--;
      seen.push(m.offset);
      const p = m.envelope.payload as { orderId: string };
      return m.offset === '1' ? [] : [toTopic('out', newEnvelope('OrderPlaced', { orderId: p.orderId }, { sagaId: 'k' })), toTopic('out2', newEnvelope('OrderPlaced', { orderId: p.orderId }, { sagaId: 'k' }))];
    });
    const out = await handle(tx, [incoming(0), incoming(1), incoming(2)], 'ctx');
    assert.deepEqual(seen, ['0', '1', '2']);
    assert.deepEqual(out.map((o) => `${o.topic}:${(o.envelope.payload as { orderId: string }).orderId}`), ['out:o0', 'out2:o0', 'out:o2', 'out2:o2']);
  });

  it('stops at the first failure so the transaction rolls back', async () => {
    const seen: string[] = [];
    const handle = perMessage(async (_t, m) => {
      seen.push(m.offset);
      if (m.offset === '1') throw new Error('boom');
      return [];
    });
    await assert.rejects(handle(tx, [incoming(0), incoming(1), incoming(2)], undefined), /boom/);
    assert.deepEqual(seen, ['0', '1']);
  });
});
