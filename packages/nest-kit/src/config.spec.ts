import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { BaseEnvSchema, brokerList, loadConfig } from './config';

const Schema = BaseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3004),
  DB_NAME: z.string().default('wallet_db'),
  WALLET_TIMEOUT_MS: z.coerce.number().int().positive().default(500),
});

describe('loadConfig', () => {
  it('applies defaults and coerces numbers', () => {
    const env = loadConfig(Schema, {});
    assert.equal(env.PORT, 3004);
    assert.equal(env.DATABASE_URL, 'postgres://postgres@127.0.0.1:5432');
    assert.equal(env.KAFKA_BROKERS, '127.0.0.1:19092');
    assert.equal(env.LOG_LEVEL, 'info');
    assert.equal(loadConfig(Schema, { PORT: '4000' }).PORT, 4000);
  });

  it('fails fast naming each bad variable and its value', () => {
    assert.throws(() => loadConfig(Schema, { PORT: '70000', LOG_LEVEL: 'loud' }), (err: Error) => {
      assert.match(err.message, /^invalid configuration: /);
      assert.match(err.message, /PORT .*"70000"/);
      assert.match(err.message, /LOG_LEVEL .*"loud"/);
      return true;
    });
    assert.throws(() => loadConfig(BaseEnvSchema, {}), /PORT is required \(not set\)/);
    assert.throws(() => loadConfig(Schema, { PORT: 'abc' }), /invalid configuration: PORT must be a number \(got "abc"\)$/);
    assert.throws(() => loadConfig(Schema, { PORT: '70000' }), /PORT must be at most 65535 \(got "70000"\)/);
  });

  it('splits broker lists', () => {
    assert.deepEqual(brokerList(' a:1, b:2 ,,'), ['a:1', 'b:2']);
  });
});
