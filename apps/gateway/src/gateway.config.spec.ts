import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '@saga/nest-kit';
import { GatewayEnvSchema } from './gateway.config';

describe('gateway configuration', () => {
  it('defaults to demo mode on :3000 with the services on their default ports', () => {
    const env = loadConfig(GatewayEnvSchema, {});
    assert.equal(env.PORT, 3000);
    assert.equal(env.AUTH_MODE, 'demo');
    assert.equal(env.ORDER_URL, 'http://127.0.0.1:3001');
    assert.equal(env.JWT_SECRET, undefined);
    assert.equal(loadConfig(GatewayEnvSchema, { ORDER_URL: 'http://h:1/' }).ORDER_URL, 'http://h:1');
  });

  it('requires a long enough JWT_SECRET when AUTH_MODE=required', () => {
    assert.throws(() => loadConfig(GatewayEnvSchema, { AUTH_MODE: 'required' }), /JWT_SECRET/);
    assert.throws(() => loadConfig(GatewayEnvSchema, { JWT_SECRET: 'short' }), /JWT_SECRET must be at least 32 characters \(got "short"\)/);
    assert.equal(loadConfig(GatewayEnvSchema, { AUTH_MODE: 'required', JWT_SECRET: 's'.repeat(32) }).AUTH_MODE, 'required');
  });
});
