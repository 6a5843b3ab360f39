import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '@saga/nest-kit';
import { GatewayEnvSchema } from './gateway.config';

describe('gateway configuration', () => {
  it('defaults to demo mode on :3000 with the services on their default ports', () => {
    const env = loadConfig(GatewayEnvSchema, {});
    assert.equal(env.PORT, 3000);
    assert.equal(env.AUTH_MODE, 'demo');
    assert.deepEqual(env.ORDER_URL, ['http://127.0.0.1:3001']);
    assert.equal(env.JWT_SECRET, undefined);
    assert.deepEqual(loadConfig(GatewayEnvSchema, { ORDER_URL: 'http://h:1/' }).ORDER_URL, ['http://h:1']);
  });

  it('takes several instances of a service as a comma-separated list, each a URL', () => {
    assert.deepEqual(loadConfig(GatewayEnvSchema, { ORDER_URL: 'http://a:1, http://b:2/' }).ORDER_URL, ['http://a:1', 'http://b:2']);
    assert.throws(() => loadConfig(GatewayEnvSchema, { ORDER_URL: 'http://a:1,not a url' }), /ORDER_URL/);
    assert.throws(() => loadConfig(GatewayEnvSchema, { PAYMENT_URL: ' , ' }), /PAYMENT_URL/);
  });

  it('requires a long enough JWT_SECRET when AUTH_MODE=required', () => {
    assert.throws(() => loadConfig(GatewayEnvSchema, { AUTH_MODE: 'required' }), /JWT_SECRET/);
    assert.throws(() => loadConfig(GatewayEnvSchema, { JWT_SECRET: 'short' }), /JWT_SECRET must be at least 32 characters \(got "short"\)/);
    assert.equal(loadConfig(GatewayEnvSchema, { AUTH_MODE: 'required', JWT_SECRET: 's'.repeat(32) }).AUTH_MODE, 'required');
  });
});
