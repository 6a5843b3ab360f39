import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '@saga/nest-kit';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword, UserDirectory } from './auth/users';
import { gatewayAccounts, GatewayEnvSchema } from './gateway.config';

const SECRET = 's'.repeat(32);
const operator = { username: 'ops', role: 'operator', passwordHash: hashPassword('a long operator passphrase') };
const customer = { username: 'CUS_0042', role: 'customer', passwordHash: hashPassword('customer passphrase') };

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
    const users = JSON.stringify([operator]);
    assert.equal(loadConfig(GatewayEnvSchema, { AUTH_MODE: 'required', JWT_SECRET: SECRET, AUTH_USERS: users }).AUTH_MODE, 'required');
  });

  it('refuses to start in required mode without configured accounts, or without an operator among them', () => {
    assert.throws(() => loadConfig(GatewayEnvSchema, { AUTH_MODE: 'required', JWT_SECRET: SECRET }), /AUTH_USERS is required/);
    assert.throws(
      () => loadConfig(GatewayEnvSchema, { AUTH_MODE: 'required', JWT_SECRET: SECRET, AUTH_USERS: JSON.stringify([customer]) }),
      /AUTH_USERS needs at least one account with role "operator"/,
    );
    assert.throws(() => loadConfig(GatewayEnvSchema, { AUTH_MODE: 'required', JWT_SECRET: SECRET, AUTH_USERS: '[{' }), /AUTH_USERS is not JSON/);
    assert.throws(
      () => loadConfig(GatewayEnvSchema, { AUTH_MODE: 'required', JWT_SECRET: SECRET, AUTH_USERS: JSON.stringify([operator, { ...customer, passwordHash: 'plain' }]) }),
      /AUTH_USERS \[1\]\.passwordHash: must be scrypt/,
    );
    assert.throws(
      () => loadConfig(GatewayEnvSchema, { AUTH_MODE: 'required', JWT_SECRET: SECRET, AUTH_USERS: JSON.stringify([operator, operator]) }),
      /ops is listed twice/,
    );
    assert.throws(() => loadConfig(GatewayEnvSchema, { AUTH_MODE: 'required', JWT_SECRET: SECRET, AUTH_USERS_FILE: '/nonexistent/users.json' }), /AUTH_USERS_FILE cannot read/);
  });

  it('in required mode only the configured accounts log in: the demo operator / operator-pass is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-users-'));
    const file = join(dir, 'users.json');
    writeFileSync(file, JSON.stringify([operator, customer]));
    const env = loadConfig(GatewayEnvSchema, { AUTH_MODE: 'required', JWT_SECRET: SECRET, AUTH_USERS_FILE: file });
    const users = UserDirectory.of(gatewayAccounts(env));
    assert.equal(users.verify('operator', 'operator-pass'), undefined);
    assert.equal(users.verify('CUS_0001', 'cus_0001-pass'), undefined);
    assert.deepEqual(users.verify('ops', 'a long operator passphrase'), { sub: 'ops', role: 'operator' });
    assert.deepEqual(users.verify('CUS_0042', 'customer passphrase'), { sub: 'CUS_0042', role: 'customer' });
  });

  it('in demo mode the demo logins exist, next to any configured account', () => {
    const users = UserDirectory.of(gatewayAccounts(loadConfig(GatewayEnvSchema, { AUTH_USERS: JSON.stringify([operator]) })));
    assert.deepEqual(users.verify('operator', 'operator-pass'), { sub: 'operator', role: 'operator' });
    assert.deepEqual(users.verify('ops', 'a long operator passphrase'), { sub: 'ops', role: 'operator' });
  });
});
