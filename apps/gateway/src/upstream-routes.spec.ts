import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UPSTREAM_ROUTES } from './upstream-routes';

const route = (path: string) => UPSTREAM_ROUTES.find((r) => r.path === path);
const streams = (routePath: string, method: string, path: string) => route(routePath)?.streams?.(method, path) ?? false;
const runsSaga = (routePath: string, method: string, path: string) => route(routePath)?.runsSaga?.(method, path) ?? false;
const keyed = (routePath: string, method: string, path: string) => route(routePath)?.keyed?.(method, path) ?? false;

describe('upstream routes', () => {
  it('sends each prefix of DESIGN §3 to its service', () => {
    assert.equal(route('/orders')?.upstream, 'order');
    assert.equal(route('/api/payment')?.upstream, 'order');
    assert.equal(route('/api/orders/*')?.upstream, 'order');
    assert.equal(route('/api/products/*')?.upstream, 'inventory');
    assert.equal(route('/api/wallets/*')?.upstream, 'wallet');
    assert.equal(route('/api/payments')?.upstream, 'payment');
    assert.equal(route('/api/sagas/*')?.upstream, 'orchestrator');
    assert.equal(route('/internal/*'), undefined, 'internal routes are not public');
  });

  it('gives only the calls that wait for a saga the long timeout', () => {
    assert.equal(runsSaga('/orders', 'POST', '/orders'), true);
    assert.equal(runsSaga('/api/payment', 'POST', '/api/payment'), true);
    assert.equal(runsSaga('/api/orders/*', 'POST', '/api/orders/o1/payment'), true);
    assert.equal(runsSaga('/api/orders/*', 'POST', '/api/orders/o1/cancel'), false);
    assert.equal(runsSaga('/api/orders/*', 'GET', '/api/orders/o1'), false);
    assert.equal(runsSaga('/api/products', 'GET', '/api/products'), false);
  });

  it('keys the saga-starting POSTs and the creation of an order, nothing else', () => {
    assert.equal(keyed('/orders', 'POST', '/orders'), true);
    assert.equal(keyed('/api/orders', 'POST', '/api/orders'), true);
    assert.equal(keyed('/api/orders/*', 'POST', '/api/orders/o1/payment'), true);
    assert.equal(keyed('/api/payment', 'POST', '/api/payment'), true);
    assert.equal(keyed('/api/orders', 'GET', '/api/orders'), false);
    assert.equal(keyed('/api/orders/*', 'POST', '/api/orders/o1/cancel'), false);
    assert.equal(keyed('/api/orders/*', 'PATCH', '/api/orders/o1/status'), false);
    assert.equal(keyed('/api/wallets/*', 'POST', '/api/wallets/CUS_0001/deposit'), false);
  });

  it('treats only an order event stream as a stream', () => {
    assert.equal(streams('/api/orders/*', 'GET', '/api/orders/o1/events'), true);
    assert.equal(streams('/api/orders/*', 'POST', '/api/orders/o1/events'), false);
    assert.equal(streams('/api/orders/*', 'GET', '/api/orders/o1'), false);
    assert.equal(streams('/api/orders/*', 'GET', '/api/orders/o1/history'), false);
    assert.equal(streams('/api/orders/*', 'GET', '/api/orders/o1/events/x'), false);
  });
});
