import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newEnvelope, toTopic } from '../envelope';
import type { IncomingMessage, OutgoingMessage } from '../ports';
import { eventually } from '@saga/testing';
import { InMemoryBroker } from './in-memory.broker';

function msg(topic: string, key: string, seq: number): OutgoingMessage {
  return toTopic(topic, newEnvelope('OrderStatusChanged', { orderId: key, customerId: 'c', status: String(seq), statusInfo: null }, { sagaId: key }));
}
const seqOf = (m: IncomingMessage) => Number((m.envelope.payload as { status: string }).status);
const tick = () => new Promise((r) => setTimeout(r, Math.random() * 3));

describe('InMemoryBroker', () => {
  it('delivers every message once, in order per key, one batch at a time per partition', async () => {
    const broker = new InMemoryBroker();
    const byKey = new Map<string, number[]>();
    const busy = new Set<number>();
    let maxParallel = 0;
    let delivered = 0;
    const sub = await broker.subscribe({
      groupId: 'g',
      topics: ['t'],
      concurrency: 4,
      maxBatchSize: 37,
      handler: async (batch) => {
        const p = batch[0].partition;
        assert.equal(busy.has(p), false, 'a partition is handled by one batch at a time');
        assert.ok(batch.length <= 37);
        busy.add(p);
        maxParallel = Math.max(maxParallel, busy.size);
        await tick();
        for (const m of batch) {
          assert.equal(m.partition, p);
          assert.equal(m.key, m.envelope.sagaId);
          const list = byKey.get(m.key) ?? [];
          list.push(seqOf(m));
          byKey.set(m.key, list);
          delivered++;
        }
        busy.delete(p);
      },
    });
    await sub.ready;
    const producer = broker.producer();
    const next = new Map<string, number>();
    for (let round = 0; round < 20; round++) {
      // 100 messages per send, keys interleaved, two per key and round
      const batch: OutgoingMessage[] = [];
      for (let i = 0; i < 100; i++) {
        const key = `key-${(i * 7) % 50}`;
        const seq = next.get(key) ?? 0;
        next.set(key, seq + 1);
        batch.push(msg('t', key, seq));
      }
      await producer.send(batch);
    }
    await eventually(() => assert.equal(delivered, 2000));
    assert.equal(byKey.size, 50);
    for (const [key, seqs] of byKey) assert.deepEqual(seqs, Array.from({ length: 40 }, (_, i) => i), `order of ${key}`);
    assert.ok(maxParallel > 1 && maxParallel <= 4, `partitions handled in parallel, bounded (saw ${maxParallel})`);
    await sub.close();
    await broker.close();
  });

  it('redelivers a batch whose handler throws, before anything later of that partition', async () => {
    const broker = new InMemoryBroker({ partitions: 1 });
    const seen: number[] = [];
    let failuresLeft = 2;
    const sub = await broker.subscribe({
      groupId: 'g',
      topics: ['t'],
      maxBatchSize: 3,
      handler: async (batch) => {
        if (batch.some((m) => seqOf(m) === 4) && failuresLeft-- > 0) throw new Error('transient');
        for (const m of batch) seen.push(seqOf(m));
      },
    });
    await broker.producer().send(Array.from({ length: 9 }, (_, i) => msg('t', 'k', i)));
    await eventually(() => assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8]));
    assert.equal(failuresLeft, -1);
    await sub.close();
    await broker.close();
  });

  it('gives each group every message and splits partitions between members of a group', async () => {
    const broker = new InMemoryBroker({ partitions: 4 });
    const a: IncomingMessage[] = [];
    const b: IncomingMessage[] = [];
    const other: IncomingMessage[] = [];
    const subA = await broker.subscribe({ groupId: 'g', topics: ['t'], handler: async (batch) => void a.push(...batch) });
    const subB = await broker.subscribe({ groupId: 'g', topics: ['t'], handler: async (batch) => void b.push(...batch) });
    const subO = await broker.subscribe({ groupId: 'other', topics: ['t'], handler: async (batch) => void other.push(...batch) });
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    await broker.producer().send(keys.map((k) => msg('t', k, 0)));
    await eventually(() => {
      assert.equal(a.length + b.length, 40);
      assert.equal(other.length, 40);
    });
    assert.ok(a.length > 0 && b.length > 0, 'both members got partitions');
    const partsA = new Set(a.map((m) => m.partition));
    assert.ok(b.every((m) => !partsA.has(m.partition)), 'a partition belongs to one member');

    // When one member leaves, the other takes its partitions.
    await subA.close();
    await broker.producer().send(keys.map((k) => msg('t', k, 1)));
    await eventually(() => assert.equal(b.filter((m) => seqOf(m) === 1).length, 40));
    assert.equal(a.filter((m) => seqOf(m) === 1).length, 0);
    await subB.close();
    await subO.close();
    await broker.close();
  });

  it('starts a new group from the oldest retained message and keeps topics without groups (DLQs)', async () => {
    const broker = new InMemoryBroker();
    const letter = { ...msg('t.dlq', 'k', 7), headers: { 'dlq-error': 'boom' } };
    await broker.producer().send([letter, msg('t.dlq', 'other-key', 8)]);
    const dead = broker.messages('t.dlq');
    assert.equal(dead.length, 2);
    assert.ok(dead.every((m) => m.partition === 0), 'a DLQ has one partition');
    assert.equal(dead[0].headers?.['dlq-error'], 'boom');
    assert.deepEqual(dead[0].envelope, letter.envelope);
    assert.equal(dead[0].offset, '0');
    assert.equal(dead[1].offset, '1');

    const got: IncomingMessage[] = [];
    const sub = await broker.subscribe({ groupId: 'late', topics: ['t.dlq'], handler: async (b) => void got.push(...b) });
    await eventually(() => assert.equal(got.length, 2));
    await sub.close();
    await broker.close();
  });

  it('gives each delivery fresh objects (as if deserialized)', async () => {
    const broker = new InMemoryBroker({ partitions: 1 });
    const first: IncomingMessage[] = [];
    let failOnce = true;
    const sub = await broker.subscribe({
      groupId: 'g',
      topics: ['t'],
      handler: async (batch) => {
        first.push(batch[0]);
        (batch[0].envelope.payload as { status: string }).status = 'mutated';
        if (failOnce) {
          failOnce = false;
          throw new Error('again');
        }
      },
    });
    await broker.producer().send([msg('t', 'k', 5)]);
    await eventually(() => assert.equal(first.length, 2));
    assert.notEqual(first[0], first[1]);
    await sub.close();
    await broker.close();
  });

  it('close() waits for the batch in hand', async () => {
    const broker = new InMemoryBroker();
    let finished = false;
    let started!: () => void;
    const startedP = new Promise<void>((r) => (started = r));
    const sub = await broker.subscribe({
      groupId: 'g',
      topics: ['t'],
      handler: async () => {
        started();
        await new Promise((r) => setTimeout(r, 50));
        finished = true;
      },
    });
    await broker.producer().send([msg('t', 'k', 1)]);
    await startedP;
    await sub.close();
    assert.equal(finished, true);
    await broker.close();
  });
});
