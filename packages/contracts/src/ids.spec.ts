import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validate, version } from 'uuid';
import { uuidv7 } from './ids';

test('uuidv7 gives valid, distinct version-7 ids in the order they were made, past one pool refill', () => {
  const ids = Array.from({ length: 1_000 }, () => uuidv7());
  for (const id of ids) {
    assert.ok(validate(id), id);
    assert.equal(version(id), 7);
  }
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual([...ids].sort(), ids);
});

test('uuidv7 carries the current time in its first 48 bits', () => {
  const before = Date.now();
  const id = uuidv7();
  const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
  assert.ok(ms >= before && ms <= Date.now() + 1, `${ms} not in [${before}, now]`);
});
