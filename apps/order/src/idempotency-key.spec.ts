import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '@saga/contracts';
import { canonicalJson, keyScope, parseIdempotencyKey, replayedOrderId, requestFingerprint, type IdempotencyKeyClaim } from './idempotency-key';

const failure = (fn: () => unknown): AppError => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AppError, String(err));
    return err;
  }
  assert.fail('expected an AppError');
};

describe('parseIdempotencyKey (Idempotency-Key header)', () => {
  it('takes a bare key or a Structured Field string, the same key either way', () => {
    assert.equal(parseIdempotencyKey(undefined), undefined);
    assert.equal(parseIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324'), '8e03978e-40d5-43e8-bc93-6894a57f9324');
    assert.equal(parseIdempotencyKey('"8e03978e-40d5-43e8-bc93-6894a57f9324"'), '8e03978e-40d5-43e8-bc93-6894a57f9324');
    assert.equal(parseIdempotencyKey('"say \\"hi\\""'), 'say "hi"');
    assert.equal(parseIdempotencyKey('order 42 / try #1'), 'order 42 / try #1');
    assert.equal(parseIdempotencyKey('k'.repeat(255)), 'k'.repeat(255));
  });

  it('refuses an empty, too long or unprintable key with 400 VALIDATION_FAILED naming the header', () => {
    for (const bad of ['', '   ', '""', 'k'.repeat(256), 'caf\u00e9', 'tab\there', ['a', 'b']]) {
      const err = failure(() => parseIdempotencyKey(bad));
      assert.equal(err.code, 'VALIDATION_FAILED', JSON.stringify(bad));
      assert.equal(err.status, 400);
      assert.equal(err.details?.field, 'Idempotency-Key');
      assert.match(err.message, /^Idempotency-Key: /);
    }
  });
});

describe('requestFingerprint', () => {
  const body = { customerId: 'CUS_0001', orderItems: [{ productId: 'P002', quantity: 2 }] };

  it('is the same for the same request whatever the order of its fields', () => {
    const reordered = { orderItems: [{ quantity: 2, productId: 'P002' }], customerId: 'CUS_0001' };
    assert.equal(requestFingerprint('place', body), requestFingerprint('place', reordered));
    assert.equal(canonicalJson({ b: 1, a: [1, { d: undefined, c: 'x' }] }), '{"a":[1,{"c":"x"}],"b":1}');
  });

  it('differs with the body or the kind of call', () => {
    assert.notEqual(requestFingerprint('place', body), requestFingerprint('place', { ...body, customerId: 'CUS_0002' }));
    assert.notEqual(requestFingerprint('place', body), requestFingerprint('place', { ...body, orderItems: [{ productId: 'P002', quantity: 3 }] }));
    assert.notEqual(requestFingerprint('place', body), requestFingerprint('create', body));
  });
});

describe('replayedOrderId', () => {
  const held: IdempotencyKeyClaim = { customerId: 'CUS_0001', key: 'k1', operation: 'place', requestHash: requestFingerprint('place', { a: 1 }), orderId: 'o1' };

  it('answers a repeat of the same request with the first one\'s order', () => {
    assert.equal(replayedOrderId(held, { ...held, orderId: 'o2' }), 'o1');
  });

  it('refuses the key with another request: 422 IDEMPOTENCY_KEY_REUSED naming the header', () => {
    const other = failure(() => replayedOrderId(held, { ...held, requestHash: requestFingerprint('place', { a: 2 }), orderId: 'o2' }));
    assert.equal(other.code, 'IDEMPOTENCY_KEY_REUSED');
    assert.equal(other.status, 422);
    assert.equal(other.details?.field, 'Idempotency-Key');
    assert.match(other.message, /another place-order request \(the body differs\)/);
    const pay = failure(() => replayedOrderId(held, { ...held, operation: 'pay', requestHash: requestFingerprint('pay', { orderId: 'o1' }) }));
    assert.match(pay.message, /already used for a place-order request/);
  });

  it('scopes keys to the customer', () => {
    assert.notEqual(keyScope({ customerId: 'CUS_0001', key: 'k1' }), keyScope({ customerId: 'CUS_0002', key: 'k1' }));
  });
});
