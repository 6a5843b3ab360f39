import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isConnectionFailure, mayRetryElsewhere, UpstreamPool } from './upstream-pool';

const A = 'http://127.0.0.1:3001';
const B = 'http://127.0.0.1:3101';
const C = 'http://127.0.0.1:3201';

function picks(pool: UpstreamPool, n: number, exclude?: ReadonlySet<string>): string[] {
  return Array.from({ length: n }, () => pool.pick(exclude) as string);
}

describe('UpstreamPool', () => {
  it('deals requests round-robin over its instances', () => {
    const pool = new UpstreamPool('order', [A, B, C]);
    const six = picks(pool, 6);
    assert.deepEqual(new Set(six.slice(0, 3)), new Set([A, B, C]));
    assert.deepEqual(six.slice(3), six.slice(0, 3));
  });

  it('skips an instance taken out until it is brought back', () => {
    const pool = new UpstreamPool('order', [A, B]);
    assert.equal(pool.markDown(A, 'unreachable'), true);
    assert.equal(pool.markDown(A, 'unreachable'), false, 'already out');
    assert.deepEqual(picks(pool, 4), [B, B, B, B]);
    assert.deepEqual(pool.downReasons(), [`${A}: unreachable`]);
    assert.equal(pool.available, true);
    assert.equal(pool.markUp(A), true);
    assert.equal(pool.markUp(A), false, 'already in');
    assert.deepEqual(new Set(picks(pool, 2)), new Set([A, B]));
  });

  it('picks another instance than the ones already tried, and none once all were', () => {
    const pool = new UpstreamPool('order', [A, B]);
    assert.deepEqual(picks(pool, 3, new Set([A])), [B, B, B]);
    assert.equal(pool.pick(new Set([A, B])), undefined);
  });

  it('still tries an instance when every one is marked out (the checks may be stale)', () => {
    const pool = new UpstreamPool('order', [A, B]);
    pool.markDown(A, 'x');
    pool.markDown(B, 'y');
    assert.equal(pool.available, false);
    assert.deepEqual(new Set(picks(pool, 4)), new Set([A, B]));
    assert.equal(pool.pick(new Set([A])), B);
  });

  it('refuses an empty instance list', () => {
    assert.throws(() => new UpstreamPool('order', []), /order has no instance/);
  });
});

describe('retry rules', () => {
  it('retries an idempotent request after any connection failure, never after a timeout', () => {
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'get']) {
      for (const code of ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET']) assert.equal(mayRetryElsewhere(method, code), true, `${method} ${code}`);
      assert.equal(mayRetryElsewhere(method, 'UND_ERR_HEADERS_TIMEOUT'), false);
    }
  });

  it('retries a POST or PATCH only when it never reached the instance', () => {
    for (const method of ['POST', 'PATCH']) {
      assert.equal(mayRetryElsewhere(method, 'ECONNREFUSED'), true);
      assert.equal(mayRetryElsewhere(method, 'UND_ERR_CONNECT_TIMEOUT'), true);
      assert.equal(mayRetryElsewhere(method, 'ECONNRESET'), false);
      assert.equal(mayRetryElsewhere(method, 'UND_ERR_SOCKET'), false);
      assert.equal(mayRetryElsewhere(method, undefined), false);
    }
  });

  it('retries a POST carrying an Idempotency-Key after any connection failure (the repeat replays), never after a timeout', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', 'UND_ERR_CLOSED']) assert.equal(mayRetryElsewhere('POST', code, true), true, code);
    assert.equal(mayRetryElsewhere('POST', 'UND_ERR_HEADERS_TIMEOUT', true), false);
    assert.equal(mayRetryElsewhere('POST', 'UND_ERR_BODY_TIMEOUT', true), false);
    assert.equal(mayRetryElsewhere('POST', undefined, true), false);
    assert.equal(mayRetryElsewhere('POST', 'ECONNRESET', false), false, 'without the key: the order may exist');
  });

  it('counts only connection errors as the instance failing', () => {
    assert.equal(isConnectionFailure('ECONNREFUSED'), true);
    assert.equal(isConnectionFailure('UND_ERR_SOCKET'), true);
    assert.equal(isConnectionFailure('UND_ERR_HEADERS_TIMEOUT'), false);
    assert.equal(isConnectionFailure(undefined), false);
  });
});
