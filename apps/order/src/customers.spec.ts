import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AppError } from '@saga/contracts';
import { pino } from 'pino';
import { CustomerDirectory } from './customers';

describe('CustomerDirectory (a wallet service on a local port)', () => {
  let server: Server;
  let url: string;
  const asked: string[] = [];
  /** Status the fake wallet service answers per customer (200 otherwise). */
  const answers = new Map<string, number>([['CUS_NONE', 404], ['CUS_BROKEN', 500]]);
  const logger = pino({ level: 'silent' });

  before(async () => {
    server = createServer((req, res) => {
      const id = decodeURIComponent(req.url!.split('/').pop()!);
      asked.push(id);
      res.writeHead(answers.get(id) ?? 200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('refuses an unknown customer with UNKNOWN_CUSTOMER naming the field', async () => {
    const customers = new CustomerDirectory(url, logger);
    await assert.rejects(customers.assertKnown('CUS_NONE'), (err: AppError) => {
      assert.equal(err.code, 'UNKNOWN_CUSTOMER');
      assert.equal(err.status, 404);
      assert.match(err.message, /^customerId: customer CUS_NONE does not exist$/);
      assert.deepEqual(err.details, { field: 'customerId', customerId: 'CUS_NONE' });
      return true;
    });
  });

  it('asks once per known customer, concurrent checks sharing one call', async () => {
    const customers = new CustomerDirectory(url, logger);
    asked.length = 0;
    await Promise.all([customers.assertKnown('CUS_A'), customers.assertKnown('CUS_A'), customers.assertKnown('CUS_B')]);
    await customers.assertKnown('CUS_A');
    assert.deepEqual(asked.sort(), ['CUS_A', 'CUS_B']);
  });

  it('lets the order through when the wallet service cannot say (error or unreachable), and asks again next time', async () => {
    const customers = new CustomerDirectory(url, logger);
    asked.length = 0;
    await customers.assertKnown('CUS_BROKEN');
    await customers.assertKnown('CUS_BROKEN');
    assert.deepEqual(asked, ['CUS_BROKEN', 'CUS_BROKEN']);
    await new CustomerDirectory('http://127.0.0.1:1', logger, { timeoutMs: 500 }).assertKnown('CUS_X');
  });

  it('forgets the oldest known customer past its bound', async () => {
    const customers = new CustomerDirectory(url, logger, { maxRemembered: 2 });
    asked.length = 0;
    for (const id of ['C1', 'C2', 'C3', 'C1']) await customers.assertKnown(id);
    assert.deepEqual(asked, ['C1', 'C2', 'C3', 'C1']);
  });
});
