import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError, ErrorCode } from '@saga/contracts';
import { assertTransition, canTransition, ORDER_STATUSES } from './order-status';

describe('order status lifecycle', () => {
  it('follows INITIATED → PAYMENT_PENDING → PAYMENT_DONE → PLACED → ON_WAY → DELIVERED', () => {
    const path = ['INITIATED', 'PAYMENT_PENDING', 'PAYMENT_DONE', 'PLACED', 'ON_WAY', 'DELIVERED'] as const;
    for (let i = 0; i + 1 < path.length; i++) assert.ok(canTransition(path[i]!, path[i + 1]!), `${path[i]} → ${path[i + 1]}`);
  });

  it('fails only before placement and cancels only before payment', () => {
    for (const s of ORDER_STATUSES) {
      assert.equal(canTransition(s, 'FAILED'), ['INITIATED', 'PAYMENT_PENDING', 'PAYMENT_DONE'].includes(s), `${s} → FAILED`);
      assert.equal(canTransition(s, 'CANCELED'), s === 'INITIATED', `${s} → CANCELED`);
    }
  });

  it('rejects skipping ahead with a 409 INVALID_TRANSITION', () => {
    assert.throws(
      () => assertTransition('o1', 'PLACED', 'DELIVERED'),
      (err: unknown) => err instanceof AppError && err.code === ErrorCode.InvalidTransition && err.status === 409,
    );
    assert.doesNotThrow(() => assertTransition('o1', 'PLACED', 'ON_WAY'));
  });

  it('returns only a PLACED order: PLACED → RETURN_PENDING → RETURNED, or back to PLACED', () => {
    for (const s of ORDER_STATUSES) assert.equal(canTransition(s, 'RETURN_PENDING'), s === 'PLACED', `${s} → RETURN_PENDING`);
    for (const s of ORDER_STATUSES) assert.equal(canTransition(s, 'RETURNED'), s === 'RETURN_PENDING', `${s} → RETURNED`);
    assert.ok(canTransition('RETURN_PENDING', 'PLACED'));
    assert.equal(canTransition('RETURN_PENDING', 'ON_WAY'), false);
  });

  it('keeps terminal states terminal', () => {
    for (const terminal of ['DELIVERED', 'FAILED', 'CANCELED', 'RETURNED'] as const) {
      for (const s of ORDER_STATUSES) assert.equal(canTransition(terminal, s), false, `${terminal} → ${s}`);
    }
  });
});
