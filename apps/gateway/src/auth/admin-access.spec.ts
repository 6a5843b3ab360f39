import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, type AccessRequest } from './access-rules';

// The operator API behind the web UI's saga explorer and dead-letter view: operator role only.
const ask = (role: 'customer' | 'operator' | undefined, method: string, path: string, mode: 'demo' | 'required' = 'required'): AccessRequest => ({
  mode,
  principal: role === undefined ? undefined : { sub: role === 'operator' ? 'operator' : 'CUS_0001', role },
  method,
  path,
  query: {},
  body: undefined,
});

describe('access rules of the operator API', () => {
  const routes: [string, string][] = [
    ['GET', '/api/sagas'],
    ['GET', '/api/sagas/stats'],
    ['POST', '/api/sagas/o-1/retry'],
    ['POST', '/api/sagas/o-1/cancel'],
    ['GET', '/api/dead-letters'],
    ['POST', '/api/dead-letters/7/replay'],
  ];

  it('lets the operator through and refuses a customer (403) or no token (401 in required mode)', () => {
    for (const [method, path] of routes) {
      assert.deepEqual(decide(ask('operator', method, path)), { kind: 'allow' }, path);
      const customer = decide(ask('customer', method, path));
      assert.equal(customer.kind === 'deny' && customer.status, 403, path);
      const anonymous = decide(ask(undefined, method, path));
      assert.equal(anonymous.kind === 'deny' && anonymous.status, 401, path);
    }
  });
});
