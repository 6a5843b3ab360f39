import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { WalletClient } from './wallet.client';

/**
 * A scripted wallet on a real socket: each request takes the next behaviour. A try's timeout is on
 * cue, not on the clock: a `hang` request ends its try's timeout signal as it arrives, and no other
 * try ever times out, so attempt counts do not depend on how busy the machine is.
 */
type Behaviour = 'applied' | 'insufficient' | 'unavailable' | 'hang' | 'reset' | 'reversed' | 'batch-one-open' | 'batch';

describe('WalletClient', () => {
  const script: Behaviour[] = [];
  const seen: string[] = [];
  const logged: Record<string, unknown>[] = [];
  /** Timeout signals of the tries made; the newest is the try in flight (one call at a time here). */
  const tryTimeouts: AbortController[] = [];
  const tryTimeout = () => {
    const c = new AbortController();
    tryTimeouts.push(c);
    return c.signal;
  };
  let server: Server;
  let client: WalletClient;
  let options: ConstructorParameters<typeof WalletClient>[0];

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      seen.push(`${req.method} ${req.url}`);
      const next = script.shift() ?? 'applied';
      const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (next === 'batch' || next === 'batch-one-open') {
        // Per debit: a customer called POOR is refused; with batch-one-open the last debit is not settled (503).
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const { debits } = JSON.parse(Buffer.concat(chunks).toString()) as { debits: { paymentId: string; customerId: string }[] };
          const results = debits.map((d, i) =>
            next === 'batch-one-open' && i === debits.length - 1
              ? { paymentId: d.paymentId, status: 503, body: { code: 'UNAVAILABLE', message: 'try again' } }
              : d.customerId === 'POOR'
                ? { paymentId: d.paymentId, status: 402, body: { code: 'INSUFFICIENT_FUNDS', message: `${d.customerId} cannot pay` } }
                : { paymentId: d.paymentId, status: 200, body: { status: 'APPLIED' } },
          );
          send(200, { results });
        });
        return;
      }
      req.resume();
      switch (next) {
        case 'applied':
          return send(200, { status: 'APPLIED' });
        case 'reversed':
          return send(200, { status: 'REVERSED' });
        case 'insufficient':
          return send(402, { code: 'INSUFFICIENT_FUNDS', message: 'insufficient funds: CUS_0004 cannot pay 999.99 USD' });
        case 'unavailable':
          return send(503, { code: 'UNAVAILABLE', message: 'down' });
        case 'reset':
          return req.socket.destroy();
        case 'hang':
          // Never answers: its try times out now (the client's timeout signal, on cue).
          return void setImmediate(() => tryTimeouts.at(-1)?.abort());
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    options = {
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      timeoutMs: 150,
      maxAttempts: 4,
      totalTimeoutMs: 10_000,
      backoffMs: 5,
      logger,
      tryTimeout,
    };
    client = new WalletClient(options);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const debit = () => client.debit({ paymentId: 'PAY1', orderId: 'O1', customerId: 'CUS_0001', amountCents: 100, currency: 'USD' });
  const reset = () => {
    tryTimeouts.length = 0;
    script.length = 0;
    seen.length = 0;
    logged.length = 0;
  };

  it('debits in one try when the wallet answers', async () => {
    reset();
    assert.deepEqual(await debit(), { outcome: 'APPLIED', attempts: 1 });
    assert.deepEqual(seen, ['POST /internal/debits']);
  });

  it('retries 5xx, resets and timeouts, logging each retry with the order id', async () => {
    reset();
    script.push('unavailable', 'reset', 'hang');
    assert.deepEqual(await debit(), { outcome: 'APPLIED', attempts: 4 });
    const retries = logged.filter((l) => l.msg === 'wallet call failed; retrying');
    assert.equal(retries.length, 3);
    assert.ok(retries.every((l) => l.orderId === 'O1' && l.paymentId === 'PAY1'));
    assert.match(String(retries[2].error), /timed out/);
  });

  it('does not retry a definite refusal', async () => {
    reset();
    script.push('insufficient');
    assert.deepEqual(await debit(), {
      outcome: 'REJECTED',
      code: 'INSUFFICIENT_FUNDS',
      reason: 'insufficient funds: CUS_0004 cannot pay 999.99 USD',
      attempts: 1,
    });
    assert.equal(seen.length, 1);
  });

  it('gives up after the bounded tries with UNAVAILABLE and the attempt count in the reason', async () => {
    reset();
    script.push('unavailable', 'unavailable', 'unavailable', 'unavailable', 'applied');
    const result = await debit();
    assert.equal(result.outcome, 'UNAVAILABLE');
    assert.equal(result.attempts, 4);
    assert.match((result as { reason: string }).reason, /^wallet unavailable after 4 attempts: wallet answered 503/);
    assert.equal((result as { busy: boolean }).busy, false, 'a wallet answering 503 is down, not busy');
    assert.equal(seen.length, 4);
  });

  it('tells a busy wallet (every try timed out) from a down one (a try refused or reset)', async () => {
    reset();
    script.push('hang', 'hang', 'hang', 'hang');
    const busy = await debit();
    assert.deepEqual([busy.outcome, (busy as { busy: boolean }).busy], ['UNAVAILABLE', true]);
    reset();
    script.push('hang', 'reset', 'hang', 'hang');
    const down = await debit();
    assert.deepEqual([down.outcome, (down as { busy: boolean }).busy], ['UNAVAILABLE', false]);
  });

  it('gives up at the total time bound even with tries left', async () => {
    reset();
    const slow = new WalletClient({ ...options, timeoutMs: 10_000, totalTimeoutMs: 300, tryTimeout: undefined });
    script.push('hang', 'hang');
    const started = Date.now();
    const result = await slow.debit({ paymentId: 'PAY2', orderId: 'O2', customerId: 'C', amountCents: 1, currency: 'USD' });
    assert.equal(result.outcome, 'UNAVAILABLE');
    assert.ok(Date.now() - started < 2_000, 'bounded');
    assert.match((result as { reason: string }).reason, /no answer within 300 ms/);
    assert.equal((result as { busy: boolean }).busy, true, 'no answer at all: busy');
  });

  it('debits a batch in one request, retrying it whole until every debit in it is settled', async () => {
    reset();
    script.push('batch-one-open', 'batch');
    const results = await client.debitMany([
      { paymentId: 'PB1', orderId: 'O1', customerId: 'CUS_0001', amountCents: 100, currency: 'USD' },
      { paymentId: 'PB2', orderId: 'O2', customerId: 'POOR', amountCents: 100, currency: 'USD' },
      { paymentId: 'PB3', orderId: 'O3', customerId: 'CUS_0002', amountCents: 100, currency: 'USD' },
    ]);
    assert.deepEqual(results, [
      { outcome: 'APPLIED', attempts: 2 },
      { outcome: 'REJECTED', code: 'INSUFFICIENT_FUNDS', reason: 'POOR cannot pay', attempts: 2 },
      { outcome: 'APPLIED', attempts: 2 },
    ]);
    assert.deepEqual(seen, ['POST /internal/debits/batch', 'POST /internal/debits/batch']);
    assert.match(String(logged.find((l) => l.msg === 'wallet call failed; retrying')?.error), /could not settle 1 debit/);
  });

  it('sends a batch of one as a single debit', async () => {
    reset();
    assert.deepEqual(await client.debitMany([{ paymentId: 'PS1', orderId: 'O1', customerId: 'C', amountCents: 1, currency: 'USD' }]), [
      { outcome: 'APPLIED', attempts: 1 },
    ]);
    assert.deepEqual(seen, ['POST /internal/debits']);
  });

  it('reverses through the reverse endpoint', async () => {
    reset();
    script.push('reset', 'reversed');
    assert.deepEqual(await client.reverse({ paymentId: 'PAY 1', orderId: 'O1' }), { outcome: 'REVERSED', attempts: 2 });
    assert.deepEqual(seen, ['POST /internal/debits/PAY%201/reverse', 'POST /internal/debits/PAY%201/reverse']);
  });
});
