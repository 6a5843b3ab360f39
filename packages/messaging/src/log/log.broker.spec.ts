import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '@saga/testing';
import { newEnvelope, toTopic } from '../envelope';
import type { IncomingMessage } from '../ports';
import { LogBroker } from './log.broker';
import { MemoryLogStore } from './memory-log.store';

/** A store whose position writes fail on demand (a database that is briefly away). */
class FlakyCommitStore extends MemoryLogStore {
  failCommits = 0;
  override async commit(group: string, topic: string, partition: number, next: number): Promise<void> {
    if (this.failCommits > 0) {
      this.failCommits--;
      throw new Error('store unavailable');
    }
    return super.commit(group, topic, partition, next);
  }
}

const msg = (key: string, seq: number) =>
  toTopic('t', newEnvelope('OrderStatusChanged', { orderId: key, customerId: 'c', status: String(seq), statusInfo: null }, { sagaId: key }));
const seqOf = (m: IncomingMessage) => Number((m.envelope.payload as { status: string }).status);

describe('LogBroker', () => {
  it('delivers a batch again when its position could not be stored (at-least-once), then goes on in order', async () => {
    const store = new FlakyCommitStore();
    const broker = new LogBroker(store, { partitions: 1, redeliveryDelayMs: 1 });
    const seen: number[] = [];
    store.failCommits = 2;
    const sub = await broker.subscribe({ groupId: 'g', topics: ['t'], maxBatchSize: 2, handler: async (batch) => void seen.push(...batch.map(seqOf)) });
    await broker.producer().send([msg('k', 0), msg('k', 1), msg('k', 2)]);
    await eventually(() => assert.deepEqual(seen, [0, 1, 0, 1, 0, 1, 2]));
    assert.equal(await store.register('g', 't', 0), 3, 'the position ends after the last record');
    await sub.close();
    await broker.close();
  });

  it('refuses to send once closed', async () => {
    const broker = new LogBroker(new MemoryLogStore());
    await broker.close();
    await assert.rejects(broker.producer().send([msg('k', 0)]), /closed/);
  });
});
