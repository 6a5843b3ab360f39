import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { PGlite } from '@electric-sql/pglite';
import { openPglite, PgliteDatabase } from '@saga/postgres';
import { eventually } from '@saga/testing';
import { newEnvelope, toTopic } from '../envelope';
import type { IncomingMessage, OutgoingMessage } from '../ports';
import { DatabaseLogBroker } from './database-log.broker';

function msg(topic: string, key: string, seq: number): OutgoingMessage {
  return toTopic(topic, newEnvelope('OrderStatusChanged', { orderId: key, customerId: 'c', status: String(seq), statusInfo: null }, { sagaId: key }));
}
const seqOf = (m: IncomingMessage) => Number((m.envelope.payload as { status: string }).status);

describe('DatabaseLogBroker (durable in-process log on PGlite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'it-bus-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function open(): Promise<{ pg: PGlite; broker: DatabaseLogBroker }> {
    const pg = await openPglite(dir);
    const broker = await DatabaseLogBroker.open(await PgliteDatabase.open(pg, 'bus'), { partitions: 4, redeliveryDelayMs: 5 });
    return { pg, broker };
  }

  it('delivers every message in order per key, redelivers a failed batch, and a restart keeps what no group committed', async () => {
    let { pg, broker } = await open();
    const byKey = new Map<string, number[]>();
    let failuresLeft = 3;
    const sub = await broker.subscribe({
      groupId: 'g',
      topics: ['t'],
      maxBatchSize: 7,
      handler: async (batch) => {
        if (batch.some((m) => m.key === 'key-0' && seqOf(m) === 5) && failuresLeft-- > 0) throw new Error('transient');
        for (const m of batch) byKey.set(m.key, [...(byKey.get(m.key) ?? []), seqOf(m)]);
      },
    });
    const producer = broker.producer();
    for (let round = 0; round < 10; round++) await producer.send(Array.from({ length: 10 }, (_, k) => msg('t', `key-${k}`, round)));
    await eventually(() => assert.equal([...byKey.values()].reduce((n, l) => n + l.length, 0), 100), { timeoutMs: 20_000 });
    for (const [key, seqs] of byKey) assert.deepEqual(seqs, Array.from({ length: 10 }, (_, i) => i), `order of ${key}`);
    assert.equal(failuresLeft, -1, 'the failing batch was delivered again until it passed');
    await sub.close();

    // Sent while the group's consumer is down, and one message whose handler fails: then the process "dies".
    await producer.send([msg('t', 'key-0', 10), msg('t', 'key-1', 10), msg('other', 'x', 1)]);
    const failing = await broker.subscribe({ groupId: 'g', topics: ['t'], handler: async () => Promise.reject(new Error('down')) });
    await failing.close();
    await broker.close();
    await pg.close();

    ({ pg, broker } = await open());
    const after: IncomingMessage[] = [];
    const again = await broker.subscribe({ groupId: 'g', topics: ['t'], handler: async (batch) => void after.push(...batch) });
    const late = await broker.subscribe({ groupId: 'new-group', topics: ['other'], handler: async (batch) => void after.push(...batch) });
    await eventually(() => assert.equal(after.length, 3));
    assert.deepEqual(after.filter((m) => m.topic === 't').map((m) => [m.key, seqOf(m)]).sort(), [['key-0', 10], ['key-1', 10]], 'only what was not committed comes again');
    assert.equal(after.find((m) => m.topic === 'other')?.key, 'x', 'a new group starts at the oldest retained record');
    await again.close();
    await late.close();

    // Committed records every group passed are trimmed; the ends survive that (offsets go on).
    const db = await PgliteDatabase.open(pg, 'bus');
    assert.equal((await db.query("SELECT 1 FROM bus_records WHERE topic = 't'")).rowCount, 0);
    const got: IncomingMessage[] = [];
    const third = await broker.subscribe({ groupId: 'g', topics: ['t'], handler: async (batch) => void got.push(...batch) });
    await broker.producer().send([msg('t', 'key-0', 11)]);
    await eventually(() => assert.equal(got.length, 1));
    assert.ok(Number(got[0].offset) > 0, 'offsets continue after a trim and a restart');
    await third.close();
    await broker.close();
    await pg.close();
  });
});
