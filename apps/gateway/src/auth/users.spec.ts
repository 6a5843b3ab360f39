import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEMO_LOGINS, demoAccounts, hashPassword, UserDirectory } from './users';
import { TokenService } from './token.service';

describe('users and tokens', () => {
  const users = UserDirectory.of(demoAccounts());

  it('knows CUS_0001..CUS_0005 and the operator with their documented passwords', () => {
    assert.deepEqual(users.verify('CUS_0001', 'cus_0001-pass'), { sub: 'CUS_0001', role: 'customer' });
    assert.deepEqual(users.verify('CUS_0005', 'cus_0005-pass'), { sub: 'CUS_0005', role: 'customer' });
    assert.deepEqual(users.verify('operator', 'operator-pass'), { sub: 'operator', role: 'operator' });
    assert.equal(DEMO_LOGINS.length, 6);
  });

  it('stores salted scrypt hashes: the same password hashes differently each time, and verifies', () => {
    const one = hashPassword('correct horse');
    const two = hashPassword('correct horse');
    assert.match(one, /^scrypt\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]{43}$/);
    assert.notEqual(one, two);
    const directory = UserDirectory.of([{ username: 'ops', role: 'operator', passwordHash: one }]);
    assert.deepEqual(directory.verify('ops', 'correct horse'), { sub: 'ops', role: 'operator' });
    assert.equal(directory.verify('ops', 'correct horse '), undefined);
  });

  it('refuses wrong passwords and unknown users', () => {
    assert.equal(users.verify('CUS_0001', 'cus_0002-pass'), undefined);
    assert.equal(users.verify('CUS_0001', ''), undefined);
    assert.equal(users.verify('nobody', 'cus_0001-pass'), undefined);
  });

  it('signs and verifies HS256 tokens; another secret or an expired token fails', async () => {
    const tokens = new TokenService(TokenService.randomSecret(), 60);
    const token = await tokens.sign({ sub: 'CUS_0002', role: 'customer' });
    assert.deepEqual(await tokens.verify(token), { sub: 'CUS_0002', role: 'customer' });
    await assert.rejects(new TokenService(TokenService.randomSecret(), 60).verify(token));
    const [h, p] = token.split('.');
    await assert.rejects(tokens.verify(`${h}.${p}.`));
    const expired = await new TokenService('x'.repeat(32), -10).sign({ sub: 'CUS_0002', role: 'customer' });
    await assert.rejects(new TokenService('x'.repeat(32), 60).verify(expired));
  });
});
