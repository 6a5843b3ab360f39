import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from '@platformatic/kafka';
import { ENVELOPE_HEADERS } from '@saga/contracts';
import { envelopeProblem, newEnvelope, toTopic } from '../envelope';
import { decodeRecord, encodeRecord } from './kafka.codec';

function asConsumed(r: { topic: string; key: string; value?: string; headers: Record<string, string> }, offset: bigint): Message<string, Buffer, string, string> {
  return {
    topic: r.topic,
    partition: 2,
    offset,
    key: r.key,
    value: r.value === undefined ? (undefined as never) : Buffer.from(r.value),
    headers: new Map(Object.entries(r.headers)),
  } as Message<string, Buffer, string, string>;
}

describe('Kafka codec', () => {
  it('puts the metadata in headers, the payload in the value, the saga id in the key, and back', () => {
    const out = { ...toTopic('t', newEnvelope('StockReserved', { orderId: 'o' }, { sagaId: 's', causationId: 'c' })), headers: { 'x-extra': '1' } };
    const rec = encodeRecord(out);
    assert.equal(rec.key, 's');
    assert.equal(rec.value, '{"orderId":"o"}');
    assert.equal(rec.headers[ENVELOPE_HEADERS.type], 'StockReserved');
    assert.equal(rec.headers['x-extra'], '1');
    const back = decodeRecord(asConsumed(rec, 12345678901234n));
    assert.deepEqual(back.envelope, out.envelope);
    assert.equal(back.offset, '12345678901234');
    assert.equal(back.partition, 2);
    assert.equal(back.key, 's');
    assert.deepEqual(back.headers, { 'x-extra': '1' });
    assert.equal(back.decodeError, undefined);
  });

  it('flags a value that is not JSON instead of throwing', () => {
    const rec = encodeRecord(toTopic('t', newEnvelope('StockReserved', { orderId: 'o' }, { sagaId: 's' })));
    const back = decodeRecord(asConsumed({ ...rec, value: '{not json' }, 1n));
    assert.match(back.decodeError ?? '', /not JSON/);
    assert.equal(back.envelope.payload, '{not json');
    assert.equal(back.headers, undefined);
  });

  it('decodes a record without headers into an envelope that fails validation', () => {
    const back = decodeRecord(asConsumed({ topic: 't', key: 'k', value: '{}', headers: {} }, 0n));
    assert.ok(envelopeProblem(back.envelope));
  });
});
