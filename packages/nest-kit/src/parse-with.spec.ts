import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError, CurrencySchema, ErrorCode, MoneySchema } from '@saga/contracts';
import { z } from 'zod';
import { parseWith } from './parse-with';

const Order = z.strictObject({
  customerId: z.string().min(1),
  orderItems: z.array(z.object({ productId: z.string().min(1), quantity: z.number().int().positive() })).min(1),
  currency: CurrencySchema.optional(),
  total: MoneySchema.optional(),
  kind: z.enum(['A', 'B']).optional(),
});

function failure(value: unknown, root?: string): AppError {
  try {
    parseWith(Order, value, root);
  } catch (err) {
    assert.ok(err instanceof AppError);
    assert.equal(err.code, ErrorCode.ValidationFailed);
    assert.equal(err.status, 400);
    return err;
  }
  assert.fail('expected a validation failure');
}

describe('parseWith', () => {
  it('returns the parsed value', () => {
    const v = parseWith(Order, { customerId: 'C', orderItems: [{ productId: 'P', quantity: 2 }] });
    assert.equal(v.orderItems[0].quantity, 2);
  });

  it('names the nested field and says what is wrong', () => {
    const err = failure({ customerId: 'C', orderItems: [{ productId: 'P', quantity: 0 }] });
    assert.equal(err.message, 'orderItems.0.quantity: must be positive');
    assert.deepEqual(err.details, { field: 'orderItems.0.quantity' });
  });

  it('reports a missing field as required', () => {
    assert.equal(failure({ orderItems: [{ productId: 'P', quantity: 1 }] }).message, 'customerId: is required');
  });

  it('reports wrong types, empty arrays and enums plainly', () => {
    assert.equal(failure({ customerId: 7, orderItems: [{ productId: 'P', quantity: 1 }] }).message, 'customerId: must be a string');
    assert.equal(failure({ customerId: 'C', orderItems: [] }).message, 'orderItems: must not be empty');
    assert.equal(
      failure({ customerId: 'C', orderItems: [{ productId: 'P', quantity: 1 }], kind: 'C' }).message,
      'kind: must be one of "A", "B"',
    );
    assert.equal(
      failure({ customerId: 'C', orderItems: [{ productId: 'P', quantity: 1.5 }] }).message,
      'orderItems.0.quantity: must be an integer',
    );
  });

  it('keeps schema-level custom messages', () => {
    const err = failure({ customerId: 'C', orderItems: [{ productId: 'P', quantity: 1 }], currency: 'usd' });
    assert.equal(err.message, 'currency: must be an ISO 4217 code such as USD');
    assert.equal(
      failure({ customerId: 'C', orderItems: [{ productId: 'P', quantity: 1 }], total: 1.234 }).message,
      'total: must have at most two decimal places',
    );
  });

  it('names an unknown key of a strict object', () => {
    const err = failure({ customerId: 'C', orderItems: [{ productId: 'P', quantity: 1 }], hack: true });
    assert.equal(err.message, 'hack: is not an accepted field');
  });

  it('names the root when the whole value is wrong and lists every problem', () => {
    assert.equal(failure(undefined).message, 'body: is required');
    assert.equal(failure('x', 'query').message, 'query: must be an object');
    const err = failure({});
    assert.deepEqual(err.details?.problems, [
      { field: 'customerId', problem: 'is required' },
      { field: 'orderItems', problem: 'is required' },
    ]);
  });
});
