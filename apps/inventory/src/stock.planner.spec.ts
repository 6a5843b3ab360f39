import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planStockBatch, type Reservation, type StockLevel } from './stock.planner';

const level = (id: string, available: number, reserved = 0, sold = 0): [string, StockLevel] => [id, { id, available, reserved, sold }];
const stock = new Map([level('P001', 1), level('P002', 10)]);
const none = new Map<string, Reservation>();

describe('planStockBatch', () => {
  it('reserves all-or-nothing and names the first unavailable product', () => {
    const plan = planStockBatch(
      [
        { type: 'ReserveStock', orderId: 'O1', items: [{ productId: 'P001', quantity: 1 }, { productId: 'P002', quantity: 2 }] },
        { type: 'ReserveStock', orderId: 'O2', items: [{ productId: 'P002', quantity: 1 }, { productId: 'P001', quantity: 1 }] },
      ],
      none,
      stock,
    );
    assert.deepEqual(plan.outcomes, [
      { reply: 'StockReserved' },
      { reply: 'StockReservationFailed', code: 'OUT_OF_STOCK', reason: 'P001 is not available' },
    ]);
    assert.deepEqual(
      plan.deltas.sort((a, b) => a.id.localeCompare(b.id)),
      [
        { id: 'P001', available: -1, reserved: 1, sold: 0 },
        { id: 'P002', available: -2, reserved: 2, sold: 0 },
      ],
    );
    assert.deepEqual(plan.reservations.map((r) => [r.orderId, r.status]), [['O1', 'RESERVED'], ['O2', 'REJECTED']]);
  });

  it('fails unknown products with UNKNOWN_PRODUCT and sums repeated lines', () => {
    const plan = planStockBatch(
      [
        { type: 'ReserveStock', orderId: 'O1', items: [{ productId: 'NOPE', quantity: 1 }] },
        { type: 'ReserveStock', orderId: 'O2', items: [{ productId: 'P002', quantity: 6 }, { productId: 'P002', quantity: 5 }] },
      ],
      none,
      stock,
    );
    assert.deepEqual(plan.outcomes, [
      { reply: 'StockReservationFailed', code: 'UNKNOWN_PRODUCT', reason: 'NOPE does not exist' },
      { reply: 'StockReservationFailed', code: 'OUT_OF_STOCK', reason: 'P002 is not available' },
    ]);
    assert.deepEqual(plan.deltas, []);
  });

  it('answers a repeated ReserveStock with the first outcome and no second effect', () => {
    const plan = planStockBatch(
      [
        { type: 'ReserveStock', orderId: 'O1', items: [{ productId: 'P002', quantity: 3 }] },
        { type: 'ReserveStock', orderId: 'O1', items: [{ productId: 'P002', quantity: 3 }] },
      ],
      none,
      stock,
    );
    assert.deepEqual(plan.outcomes, [{ reply: 'StockReserved' }, { reply: 'StockReserved' }]);
    assert.deepEqual(plan.deltas, [{ id: 'P002', available: -3, reserved: 3, sold: 0 }]);
  });

  it('releases, commits, and leaves a tombstone for a release that comes first', () => {
    const reserved = new Map<string, Reservation>([
      ['O1', { orderId: 'O1', status: 'RESERVED', items: [{ productId: 'P002', quantity: 2 }], failureCode: null, failureReason: null }],
      ['O2', { orderId: 'O2', status: 'RESERVED', items: [{ productId: 'P002', quantity: 3 }], failureCode: null, failureReason: null }],
    ]);
    const plan = planStockBatch(
      [
        { type: 'ReleaseStock', orderId: 'O1' },
        { type: 'ReleaseStock', orderId: 'O1' },
        { type: 'CommitStock', orderId: 'O2' },
        { type: 'CommitStock', orderId: 'O2' },
        { type: 'ReleaseStock', orderId: 'O3' },
        { type: 'ReserveStock', orderId: 'O3', items: [{ productId: 'P002', quantity: 1 }] },
      ],
      reserved,
      new Map([level('P002', 5, 5)]),
    );
    assert.deepEqual(plan.outcomes, [
      { reply: 'StockReleased' },
      { reply: 'StockReleased' },
      { reply: 'StockCommitted' },
      { reply: 'StockCommitted' },
      { reply: 'StockReleased' },
      { reply: 'StockReservationFailed', code: 'CONFLICT', reason: 'the stock of order O3 was released' },
    ]);
    assert.deepEqual(plan.deltas, [{ id: 'P002', available: 2, reserved: -5, sold: 3 }]);
    assert.deepEqual(plan.reservations.map((r) => [r.orderId, r.status]), [['O1', 'RELEASED'], ['O2', 'COMMITTED'], ['O3', 'RELEASED']]);
  });

  it('refuses to release sold stock or commit what is not reserved (no reply, a saga bug)', () => {
    const committed = new Map<string, Reservation>([
      ['O1', { orderId: 'O1', status: 'COMMITTED', items: [{ productId: 'P002', quantity: 1 }], failureCode: null, failureReason: null }],
    ]);
    const plan = planStockBatch(
      [
        { type: 'ReleaseStock', orderId: 'O1' },
        { type: 'CommitStock', orderId: 'O9' },
      ],
      committed,
      stock,
    );
    assert.equal(plan.outcomes[0].reply, null);
    assert.equal(plan.outcomes[1].reply, null);
    assert.deepEqual(plan.deltas, []);
    assert.deepEqual(plan.reservations, []);
  });

  it('CheckStock (saga v2) reads availability and changes nothing', () => {
    const plan = planStockBatch(
      [
        { type: 'CheckStock', orderId: 'O1', items: [{ productId: 'P001', quantity: 1 }] },
        { type: 'CheckStock', orderId: 'O2', items: [{ productId: 'P001', quantity: 2 }] },
        { type: 'CheckStock', orderId: 'O3', items: [{ productId: 'NOPE', quantity: 1 }] },
      ],
      none,
      stock,
    );
    assert.deepEqual(plan.outcomes, [
      { reply: 'StockAvailable' },
      { reply: 'StockUnavailable', code: 'OUT_OF_STOCK', reason: 'P001 is not available' },
      { reply: 'StockUnavailable', code: 'UNKNOWN_PRODUCT', reason: 'NOPE does not exist' },
    ]);
    assert.deepEqual(plan.deltas, []);
    assert.deepEqual(plan.reservations, []);
  });

  it('ReturnStock puts sold (or still reserved) units back once; a late CommitStock then does nothing', () => {
    const sold = new Map<string, Reservation>([
      ['O1', { orderId: 'O1', status: 'COMMITTED', items: [{ productId: 'P002', quantity: 3 }], failureCode: null, failureReason: null }],
      ['O2', { orderId: 'O2', status: 'RESERVED', items: [{ productId: 'P002', quantity: 1 }], failureCode: null, failureReason: null }],
    ]);
    const levels = new Map([level('P002', 6, 1, 3)]);
    const plan = planStockBatch(
      [
        { type: 'ReturnStock', orderId: 'O1' },
        { type: 'ReturnStock', orderId: 'O1' },
        { type: 'ReturnStock', orderId: 'O2' },
        { type: 'CommitStock', orderId: 'O2' },
        { type: 'ReturnStock', orderId: 'O3' },
      ],
      sold,
      levels,
    );
    assert.deepEqual(plan.outcomes.slice(0, 4), [{ reply: 'StockReturned' }, { reply: 'StockReturned' }, { reply: 'StockReturned' }, { reply: 'StockCommitted' }]);
    assert.equal(plan.outcomes[4].reply, null, 'an order with no stock to return is a saga bug, surfaced');
    assert.deepEqual(plan.deltas, [{ id: 'P002', available: 4, reserved: -1, sold: -3 }]);
    assert.deepEqual(plan.reservations.map((r) => [r.orderId, r.status]), [['O1', 'RETURNED'], ['O2', 'RETURNED']]);
  });
});

