import 'reflect-metadata';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Body, ConflictException, Controller, Get, Inject, Module, Post } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppError, ErrorCode } from '@saga/contracts';
import pg from 'pg';
import { pino } from 'pino';
import { z } from 'zod';
import { BODY_LIMIT_BYTES, startHttpApp } from './http-app';
import { parseWith } from './parse-with';
import { Readiness } from './readiness';

const Deposit = z.strictObject({ amount: z.number().positive() });

@Controller('t')
class TestController {
  constructor(@Inject(Readiness) private readonly readiness: Readiness) {}

  @Post('echo')
  echo(@Body() body: unknown) {
    return parseWith(Deposit, body);
  }
  @Get('app-error')
  appError() {
    throw new AppError(ErrorCode.InsufficientFunds, 'CUS_0004 has 100.00 USD, needs 999.99', { customerId: 'CUS_0004' });
  }
  @Get('zod')
  zod() {
    return Deposit.parse({ amount: 'x' });
  }
  @Get('conflict')
  conflict() {
    throw new ConflictException('already there');
  }
  @Get('boom')
  boom() {
    throw new Error('secret internals');
  }
  @Get('db-down')
  async dbDown() {
    // A real driver error: nothing listens on port 1.
    await new pg.Client({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 2_000 }).connect();
  }
  @Get('db-restarting')
  dbRestarting() {
    throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
  }
  @Get('ready')
  ready() {
    return { ready: this.readiness.isReady() };
  }
}

@Module({ controllers: [TestController] })
class TestModule {}

describe('startHttpApp + AppErrorFilter', () => {
  const logged: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(line) });
  const readiness = new Readiness(['db']);
  let app: NestFastifyApplication;
  let base: string;

  before(async () => {
    app = await startHttpApp({ service: 'kit-test', module: TestModule, port: 0, host: '127.0.0.1', logger, readiness });
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  after(async () => {
    await app.close();
  });

  async function call(path: string, init?: RequestInit): Promise<{ status: number; body: any }> {
    const res = await fetch(`${base}${path}`, init);
    return { status: res.status, body: await res.json() };
  }
  const post = (path: string, body: string, type = 'application/json') =>
    call(path, { method: 'POST', body, headers: { 'content-type': type } });

  it('GET /health is 503 until every part is ready, then 200', async () => {
    assert.deepEqual(await call('/health'), {
      status: 503,
      body: { status: 'unavailable', service: 'kit-test', checks: { db: 'starting' } },
    });
    readiness.markReady('db');
    assert.deepEqual(await call('/health'), { status: 200, body: { status: 'ok', service: 'kit-test', checks: { db: 'ok' } } });
    assert.deepEqual((await call('/t/ready')).body, { ready: true });
  });

  it('GET /health runs the probes at every call and names the one that fails; /health/live stays 200', async () => {
    let backlog = 0;
    readiness.probe('outbox', async () => {
      if (backlog > 10) throw new Error(`${backlog} messages waiting`);
    });
    assert.deepEqual(await call('/health'), { status: 200, body: { status: 'ok', service: 'kit-test', checks: { db: 'ok', outbox: 'ok' } } });
    backlog = 11;
    const down = await call('/health');
    assert.equal(down.status, 503);
    assert.equal(down.body.status, 'unavailable');
    assert.equal(down.body.checks.db, 'ok');
    assert.match(down.body.checks.outbox, /11 messages waiting/);
    assert.deepEqual(await call('/health/live'), { status: 200, body: { status: 'ok', service: 'kit-test' } });
    backlog = 0;
    assert.equal((await call('/health')).status, 200);
  });

  it('passes valid bodies through', async () => {
    assert.deepEqual(await post('/t/echo', '{"amount":5}'), { status: 201, body: { amount: 5 } });
  });

  it('answers 400 VALIDATION_FAILED naming the field', async () => {
    assert.deepEqual(await post('/t/echo', '{"amount":-1}'), {
      status: 400,
      body: { code: 'VALIDATION_FAILED', message: 'amount: must be positive', field: 'amount' },
    });
    const zod = await call('/t/zod');
    assert.equal(zod.status, 400);
    assert.equal(zod.body.code, 'VALIDATION_FAILED');
    assert.match(zod.body.message, /^amount: /);
  });

  it('answers 400 for malformed JSON, an empty JSON body and an unsupported content type', async () => {
    for (const [body, type] of [['{"amount":', 'application/json'], ['', 'application/json'], ['amount=1', 'text/xml']]) {
      const res = await post('/t/echo', body, type);
      assert.equal(res.status, 400, `${type} ${body}`);
      assert.equal(res.body.code, 'VALIDATION_FAILED');
      assert.equal(res.body.field, 'body');
    }
  });

  it('answers 413 PAYLOAD_TOO_LARGE for a body over the limit', async () => {
    const res = await post('/t/echo', JSON.stringify({ amount: 1, pad: 'x'.repeat(BODY_LIMIT_BYTES) }));
    assert.equal(res.status, 413);
    assert.equal(res.body.code, 'PAYLOAD_TOO_LARGE');
  });

  it('maps AppError to its status with code, message and details', async () => {
    assert.deepEqual(await call('/t/app-error'), {
      status: 402,
      body: { code: 'INSUFFICIENT_FUNDS', message: 'CUS_0004 has 100.00 USD, needs 999.99', customerId: 'CUS_0004' },
    });
  });

  it('maps unknown routes to 404 NOT_FOUND and other HttpExceptions to their status', async () => {
    const missing = await call('/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'NOT_FOUND');
    assert.deepEqual(await call('/t/conflict'), { status: 409, body: { code: 'CONFLICT', message: 'already there' } });
  });

  it('answers 503 UNAVAILABLE, not 500, while the database is unreachable or restarting', async () => {
    for (const path of ['/t/db-down', '/t/db-restarting']) {
      assert.deepEqual(await call(path), { status: 503, body: { code: 'UNAVAILABLE', message: 'the database is unavailable, try again' } }, path);
    }
  });

  it('hides unexpected errors behind 500 INTERNAL and logs them with the stack', async () => {
    assert.deepEqual(await call('/t/boom'), { status: 500, body: { code: 'INTERNAL', message: 'internal error' } });
    const line = logged.map((l) => JSON.parse(l)).find((l) => l.err?.message === 'secret internals');
    assert.ok(line, 'the error was logged');
    assert.match(line.err.stack, /boom/);
  });
});
