import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MESSAGE_SCHEMAS } from '@saga/contracts';
import { newEnvelope } from '../envelope';
import type { IncomingMessage } from '../ports';
import { DLQ_HEADERS, deadLetter, describeError, isPoison } from './dead-letter';

describe('dead letters', () => {
  const m: IncomingMessage = {
    topic: 'inventory.commands',
    partition: 3,
    offset: '42',
    key: 'saga-1',
    envelope: newEnvelope('StockReleased', { orderId: 'o' }, { sagaId: 'saga-1' }),
    headers: { 'x-extra': 'kept' },
  };

  it('goes to <topic>.dlq with the same key, envelope and headers plus where it came from and why', () => {
    const d = deadLetter(m, 'failed', 'connection reset', 'inventory', 'Error');
    assert.equal(d.topic, 'inventory.commands.dlq');
    assert.equal(d.key, 'saga-1');
    assert.equal(d.envelope, m.envelope);
    assert.equal(d.headers?.['x-extra'], 'kept');
    assert.equal(d.headers?.[DLQ_HEADERS.error], 'connection reset');
    assert.equal(d.headers?.[DLQ_HEADERS.reason], 'failed');
    assert.equal(d.headers?.[DLQ_HEADERS.errorName], 'Error');
    assert.equal(d.headers?.[DLQ_HEADERS.originalTopic], 'inventory.commands');
    assert.equal(d.headers?.[DLQ_HEADERS.originalPartition], '3');
    assert.equal(d.headers?.[DLQ_HEADERS.originalOffset], '42');
    assert.equal(d.headers?.[DLQ_HEADERS.consumerGroup], 'inventory');
    assert.ok(!Number.isNaN(Date.parse(d.headers?.[DLQ_HEADERS.failedAt] ?? '')));
  });

  it('bounds the error text', () => {
    const d = deadLetter(m, 'failed', 'x'.repeat(10_000), 'g');
    assert.ok((d.headers?.[DLQ_HEADERS.error].length ?? 0) <= 2_001);
  });

  it('a ZodError is poison and is described by its paths', () => {
    const err = MESSAGE_SCHEMAS.ReserveStock.safeParse({ orderId: 'o', items: [{ productId: 'P1', quantity: 0 }] }).error;
    assert.ok(err);
    assert.equal(isPoison(err), true);
    assert.match(describeError(err), /^items\.0\.quantity: /);
    assert.equal(isPoison(new Error('x')), false);
    assert.equal(isPoison(null), false);
    assert.equal(describeError(new TypeError('bad')), 'bad');
    assert.equal(describeError('text'), 'text');
  });
});
