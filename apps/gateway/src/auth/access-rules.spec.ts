import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearerToken, decide, type AccessRequest } from './access-rules';
import type { Principal } from './users';

const A: Principal = { sub: 'CUS_0001', role: 'customer' };
const OPERATOR: Principal = { sub: 'operator', role: 'operator' };

function req(method: string, url: string, principal: Principal | undefined, body?: unknown, mode: AccessRequest['mode'] = 'required'): AccessRequest {
  const [path, qs] = url.split('?');
  return { mode, principal, method, path, query: Object.fromEntries(new URLSearchParams(qs ?? '')), body };
}
const kind = (r: AccessRequest) => {
  const d = decide(r);
  return d.kind === 'deny' ? d.status : d.kind === 'order-owner' ? `owner:${d.orderId}:${d.status}` : 'allow';
};

describe('access rules', () => {
  it('without a token: 401 in both modes except the catalog, and in demo mode the seed POST /orders', () => {
    const anonymous = [['GET', '/api/orders/o1'], ['POST', '/api/orders'], ['GET', '/api/sagas'], ['GET', '/api/wallets/CUS_0002'], ['POST', '/api/wallets/CUS_0004/deposit'], ['GET', '/api/dead-letters']];
    for (const mode of ['demo', 'required'] as const) {
      for (const [m, u] of anonymous) assert.equal(kind(req(m, u, undefined, { customerId: 'CUS_0002', amount: 1_000_000 }, mode)), 401, `${mode} ${m} ${u}`);
    }
    assert.equal(kind(req('POST', '/orders', undefined, { customerId: 'CUS_0002' }, 'demo')), 'allow');
    assert.equal(kind(req('POST', '/orders', undefined, { customerId: 'CUS_0002' }, 'required')), 401);
    assert.equal(kind(req('GET', '/api/products', undefined)), 'allow');
    assert.equal(kind(req('GET', '/api/products/P001', undefined)), 'allow');
    assert.equal(kind(req('POST', '/api/products', undefined)), 401);
  });

  it('a customer orders only for themselves', () => {
    assert.equal(kind(req('POST', '/orders', A, { customerId: 'CUS_0001' })), 'allow');
    assert.equal(kind(req('POST', '/api/orders', A, { customerId: 'CUS_0001' })), 'allow');
    assert.equal(kind(req('POST', '/orders', A, { customerId: 'CUS_0002' })), 403);
    assert.equal(kind(req('POST', '/api/orders', A, { customerId: 'CUS_0002' }, 'demo')), 403);
  });

  it("order reads, payment, cancel and events need the customer's own order (404 otherwise)", () => {
    assert.equal(kind(req('GET', '/api/orders/o1', A)), 'owner:o1:404');
    assert.equal(kind(req('POST', '/api/orders/o1/payment', A)), 'owner:o1:404');
    assert.equal(kind(req('POST', '/api/orders/o1/cancel', A)), 'owner:o1:404');
    assert.equal(kind(req('GET', '/api/orders/o1/events', A)), 'owner:o1:404');
    assert.equal(kind(req('POST', '/api/payment', A, { orderId: 'o2' })), 'owner:o2:404');
    assert.equal(kind(req('GET', '/api/orders/o%201', A)), 'owner:o 1:404');
  });

  it('lists only their own orders, uses only their own wallet, reads only their own payments', () => {
    assert.equal(kind(req('GET', '/api/orders?customerId=CUS_0001', A)), 'allow');
    assert.equal(kind(req('GET', '/api/orders?customerId=CUS_0002', A)), 403);
    assert.equal(kind(req('GET', '/api/orders', A)), 403);
    assert.equal(kind(req('GET', '/api/wallets/CUS_0001', A)), 'allow');
    assert.equal(kind(req('POST', '/api/wallets/CUS_0001/deposit', A, { amount: 1 })), 'allow');
    assert.equal(kind(req('GET', '/api/wallets/CUS_0002', A)), 403);
    assert.equal(kind(req('GET', '/api/wallets/CUS_0002/transactions', A)), 403);
    assert.equal(kind(req('GET', '/api/payments?orderId=o1', A)), 'owner:o1:403');
    assert.equal(kind(req('GET', '/api/payments', A)), 403);
  });

  it('operator endpoints are 403 for a customer and open to the operator', () => {
    for (const [m, u] of [['PATCH', '/api/orders/o1/status'], ['GET', '/api/sagas'], ['GET', '/api/sagas/s1'], ['POST', '/api/sagas/s1/retry']]) {
      assert.equal(kind(req(m, u, A, { status: 'ON_WAY' })), 403, `${m} ${u}`);
      assert.equal(kind(req(m, u, OPERATOR, { status: 'ON_WAY' })), 'allow', `${m} ${u}`);
    }
    assert.equal(kind(req('GET', '/api/wallets/CUS_0003', OPERATOR)), 'allow');
    assert.equal(kind(req('GET', '/api/orders?customerId=CUS_0003', OPERATOR)), 'allow');
  });

  it('reads bearer tokens', () => {
    assert.equal(bearerToken(undefined), undefined);
    assert.equal(bearerToken('Bearer abc.def'), 'abc.def');
    assert.equal(bearerToken('bearer  abc'), 'abc');
    assert.equal(bearerToken('Basic xyz'), '');
  });
});
