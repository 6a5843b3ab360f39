import 'reflect-metadata';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLogger, loadConfig, openServiceDatabase } from '@saga/nest-kit';
import { dropDatabase, type Database } from '@saga/postgres';
import { startWallet, type RunningWallet } from './wallet.app';
import { WalletEnvSchema } from './wallet.config';
import { seedWallets } from './wallet.seed';

const dbName = `it_wallet_${Math.random().toString(36).slice(2, 10)}`;
const env = loadConfig(WalletEnvSchema, { ...process.env, PORT: '0', DB_NAME: dbName, LOG_LEVEL: 'silent' });

describe('wallet service (real PostgreSQL)', () => {
  let wallet: RunningWallet;
  let db: Database;
  let base: string;

  before(async () => {
    db = await openServiceDatabase({ serverUrl: env.DATABASE_URL, name: env.DB_NAME });
    wallet = await startWallet({ env, logger: createLogger('wallet', 'silent'), db });
    base = `http://127.0.0.1:${(wallet.app.getHttpServer().address() as AddressInfo).port}`;
  });
  after(async () => {
    await wallet?.stop();
    await db?.close();
    await dropDatabase(env.DATABASE_URL, dbName);
  });

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }
  const balance = async (customerId: string) => (await call('GET', `/api/wallets/${customerId}`)).body.balance as number;
  const newCustomer = async (balanceAmount: number) => {
    const customerId = `IT_${Math.random().toString(36).slice(2, 10)}`;
    assert.equal((await call('POST', '/internal/wallets', { customerId, balance: balanceAmount })).status, 201);
    return customerId;
  };
  const debit = (paymentId: string, customerId: string, amountCents: number) =>
    call('POST', '/internal/debits', { paymentId, customerId, amountCents, currency: 'USD', description: `order of ${paymentId}` });
  // Newest first, as a statement reads.
  const ledger = async (customerId: string) => (await call('GET', `/api/wallets/${customerId}/transactions?sort=desc&limit=200`)).body.items as any[];

  it('is ready and serves the seed wallets', async () => {
    assert.deepEqual(await call('GET', '/health'), { status: 200, body: { status: 'ok', service: 'wallet', checks: { db: 'ok' } } });
    const seed = await Promise.all(['CUS_0001', 'CUS_0002', 'CUS_0003', 'CUS_0004', 'CUS_0005'].map(balance));
    assert.deepEqual(seed, [5000, 2000, 1500, 100, 10000]);
    assert.deepEqual((await call('GET', '/api/wallets/CUS_0004')).body, { customerId: 'CUS_0004', balance: 100, currency: 'USD' });
    // Seeding again (a restart) changes nothing.
    assert.equal(await seedWallets(wallet.db), 0);
    assert.equal((await ledger('CUS_0001')).length, 1);
  });

  it('deposits and withdraws with a transaction each, newest first', async () => {
    const c = await newCustomer(10);
    const dep = await call('POST', `/api/wallets/${c}/deposit`, { amount: 25.5, description: 'top up' });
    assert.equal(dep.status, 200);
    assert.equal(dep.body.balance, 35.5);
    assert.deepEqual(
      { type: dep.body.transaction.type, amount: dep.body.transaction.amount, description: dep.body.transaction.description },
      { type: 'DEPOSIT', amount: 25.5, description: 'top up' },
    );
    const wd = await call('POST', `/api/wallets/${c}/withdraw`, { amount: 35.5, currency: 'USD' });
    assert.equal(wd.status, 200);
    assert.equal(wd.body.balance, 0);
    assert.deepEqual(
      (await ledger(c)).map((t) => [t.type, t.amount]),
      [['WITHDRAWAL', 35.5], ['DEPOSIT', 25.5], ['DEPOSIT', 10]],
    );
  });

  it('pages transactions by keyset: following rel="next" gives each once, oldest first, with those added while paging', async () => {
    const c = await newCustomer(100);
    for (let i = 1; i <= 4; i++) assert.equal((await call('POST', `/api/wallets/${c}/deposit`, { amount: i })).status, 200);
    const amounts: number[] = [];
    let path: string | undefined = `/api/wallets/${c}/transactions?limit=2`;
    for (let page = 1; path; page++) {
      const res = await fetch(`${base}${path}`);
      const body = (await res.json()) as { items: { amount: number }[]; nextCursor: string | null };
      amounts.push(...body.items.map((t) => t.amount));
      if (page === 1) assert.equal((await call('POST', `/api/wallets/${c}/deposit`, { amount: 5 })).status, 200);
      path = /^<([^>]+)>; rel="next"$/.exec(res.headers.get('link') ?? '')?.[1];
      assert.equal(path !== undefined, body.nextCursor !== null);
    }
    assert.deepEqual(amounts, [100, 1, 2, 3, 4, 5], 'the opening deposit, then each deposit once, in order');
    const bad = await call('GET', `/api/wallets/${c}/transactions?offset=2`);
    assert.deepEqual([bad.status, bad.body.field], [400, 'offset']);
  });

  it('refuses bad amounts (400), unknown wallets (404) and overdrafts (409 INSUFFICIENT_FUNDS)', async () => {
    const c = await newCustomer(5);
    for (const body of [{ amount: -1 }, { amount: 0 }, { amount: 1.234 }, { amount: '5' }, {}, { amount: 1, extra: true }]) {
      const res = await call('POST', `/api/wallets/${c}/deposit`, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.code, 'VALIDATION_FAILED');
    }
    assert.equal((await call('POST', `/api/wallets/${c}/deposit`, { amount: -1 })).body.message, 'amount: must be positive');
    assert.equal((await call('POST', `/api/wallets/${c}/deposit`, { amount: 1, currency: 'EUR' })).body.field, 'currency');
    assert.equal((await call('GET', '/api/wallets/NOBODY')).status, 404);
    assert.equal((await call('POST', '/api/wallets/NOBODY/deposit', { amount: 1 })).status, 404);
    assert.equal((await call('GET', '/api/wallets/NOBODY/transactions')).status, 404);
    const over = await call('POST', `/api/wallets/${c}/withdraw`, { amount: 5.01 });
    assert.equal(over.status, 409);
    assert.equal(over.body.code, 'INSUFFICIENT_FUNDS');
    assert.equal(await balance(c), 5);
    assert.equal((await call('POST', '/internal/wallets', { customerId: c, balance: 1 })).status, 409);
  });

  it('applies a debit once however often (and concurrently) it is sent', async () => {
    const c = await newCustomer(100);
    const results = await Promise.all(Array.from({ length: 12 }, () => debit('pay-once', c, 4_000)));
    for (const r of results) {
      assert.equal(r.status, 200);
      assert.equal(r.body.status, 'APPLIED');
    }
    assert.equal(results.filter((r) => r.body.replayed === false).length, 1);
    assert.equal(await balance(c), 60);
    assert.deepEqual(
      (await ledger(c)).filter((t) => t.type === 'DEBIT').map((t) => [t.amount, t.reference]),
      [[40, 'pay-once']],
    );
  });

  it('refuses debits beyond the balance (402) and for unknown customers (404), never going negative', async () => {
    const poor = await debit('pay-laptop', 'CUS_0004', 99_999);
    assert.equal(poor.status, 402);
    assert.equal(poor.body.code, 'INSUFFICIENT_FUNDS');
    assert.equal(await balance('CUS_0004'), 100);
    const ghost = await debit('pay-ghost', 'NOBODY', 100);
    assert.deepEqual([ghost.status, ghost.body.code], [404, 'UNKNOWN_CUSTOMER']);

    const c = await newCustomer(10);
    const many = await Promise.all(Array.from({ length: 8 }, (_, i) => debit(`pay-race-${i}`, c, 300)));
    assert.equal(many.filter((r) => r.status === 200).length, 3);
    assert.equal(many.filter((r) => r.status === 402).length, 5);
    assert.equal(await balance(c), 1);
  });

  it('reverses an applied debit exactly once', async () => {
    const c = await newCustomer(50);
    assert.equal((await debit('pay-refund', c, 2_000)).status, 200);
    const reversals = await Promise.all(Array.from({ length: 6 }, () => call('POST', '/internal/debits/pay-refund/reverse')));
    for (const r of reversals) assert.deepEqual(r, { status: 200, body: { status: 'REVERSED', paymentId: 'pay-refund' } });
    assert.equal(await balance(c), 50);
    assert.deepEqual(
      (await ledger(c)).map((t) => t.type),
      ['REFUND', 'DEBIT', 'DEPOSIT'],
    );
    // The debit cannot come back after its reversal.
    const again = await debit('pay-refund', c, 2_000);
    assert.deepEqual([again.status, again.body.code], [409, 'CONFLICT']);
    assert.equal(await balance(c), 50);
  });

  it('leaves a tombstone when reversing a debit that never came, so a late debit is refused', async () => {
    const c = await newCustomer(50);
    const early = await call('POST', '/internal/debits/pay-late/reverse');
    assert.deepEqual(early.body, { status: 'NOTHING_TO_REVERSE', paymentId: 'pay-late' });
    const late = await debit('pay-late', c, 1_000);
    assert.equal(late.status, 409);
    assert.equal(late.body.code, 'CONFLICT');
    assert.match(late.body.message, /was reversed/);
    assert.equal(await balance(c), 50);
    assert.equal((await call('POST', '/internal/debits/pay-late/reverse')).body.status, 'NOTHING_TO_REVERSE');
    // A refused debit has nothing to reverse either.
    assert.equal((await call('POST', '/internal/debits/pay-laptop/reverse')).body.status, 'NOTHING_TO_REVERSE');
  });

  it('settles a debit racing its reversal consistently', async () => {
    for (let i = 0; i < 10; i++) {
      const c = await newCustomer(20);
      const [d, r] = await Promise.all([debit(`pay-rr-${i}`, c, 500), call('POST', `/internal/debits/pay-rr-${i}/reverse`)]);
      // Either the debit won (then it was refunded) or the tombstone won (then the debit was refused).
      if (d.status === 200) assert.equal(r.body.status, 'REVERSED');
      else assert.deepEqual([d.status, r.body.status], [409, 'NOTHING_TO_REVERSE']);
      assert.equal(await balance(c), 20);
    }
  });

  it('runs a batch again when a reversal recorded one of its debits meanwhile, deciding the rest anew', async () => {
    /** Sends `debits` while an uncommitted reversal tombstone of `tombstoneOf` exists; commits it once the batch waits for it. */
    const racingTombstone = async (tombstoneOf: string, debits: { paymentId: string; customerId: string; amountCents: number }[]) => {
      let answer: Promise<{ status: number; body: any }> | undefined;
      await db.transaction(async (tx) => {
        await tx.query(`INSERT INTO debits (payment_id, customer_id, amount_cents, currency, status) VALUES ($1, '', 0, '', 'VOIDED')`, [tombstoneOf]);
        answer = call('POST', '/internal/debits/batch', { debits: debits.map((d) => ({ ...d, currency: 'USD' })) });
        const deadline = Date.now() + 10_000;
        for (;;) {
          const { rows } = await db.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
            [],
          );
          if (rows[0].n > 0) break;
          assert.ok(Date.now() < deadline, 'the batch never waited for the tombstone');
          await new Promise((r) => setTimeout(r, 20));
        }
      });
      return (await answer!).body.results.map((r: any) => [r.paymentId, r.status, r.body.code ?? r.body.status]);
    };
    const c = await newCustomer(30);
    // The batch read no tombstone and decided APPLIED; its write finds the row: it runs again and
    // answers what the tombstone decided, taking nothing.
    assert.deepEqual(await racingTombstone('pay-rt-0', [{ paymentId: 'pay-rt-0', customerId: c, amountCents: 2_000 }]), [['pay-rt-0', 409, 'CONFLICT']]);
    assert.equal(await balance(c), 30);
    // A debit after the raced one is decided again too: first it was refused (30 − 20 < 20), now paid.
    assert.deepEqual(
      await racingTombstone('pay-rt-1', [
        { paymentId: 'pay-rt-1', customerId: c, amountCents: 2_000 },
        { paymentId: 'pay-rt-2', customerId: c, amountCents: 2_000 },
      ]),
      [
        ['pay-rt-1', 409, 'CONFLICT'],
        ['pay-rt-2', 200, 'APPLIED'],
      ],
    );
    assert.equal(await balance(c), 10);
  });

  it('applies a batch of debits in one call, answering each as the single call would', async () => {
    const rich = await newCustomer(100);
    const poor = await newCustomer(5);
    assert.equal((await debit('pay-b-0', rich, 1_000)).status, 200);
    const res = await call('POST', '/internal/debits/batch', {
      debits: [
        { paymentId: 'pay-b-1', customerId: rich, amountCents: 2_000, currency: 'USD' },
        { paymentId: 'pay-b-2', customerId: poor, amountCents: 9_999, currency: 'USD' },
        { paymentId: 'pay-b-0', customerId: rich, amountCents: 1_000, currency: 'USD' },
        { paymentId: 'pay-b-3', customerId: 'NOBODY', amountCents: 100, currency: 'USD' },
        { paymentId: 'pay-b-4', customerId: rich, amountCents: 3_000, currency: 'USD' },
      ],
    });
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.results.map((r: any) => [r.paymentId, r.status, r.body.code ?? r.body.status, r.body.replayed]),
      [
        ['pay-b-1', 200, 'APPLIED', false],
        ['pay-b-2', 402, 'INSUFFICIENT_FUNDS', undefined],
        ['pay-b-0', 200, 'APPLIED', true],
        ['pay-b-3', 404, 'UNKNOWN_CUSTOMER', undefined],
        ['pay-b-4', 200, 'APPLIED', false],
      ],
    );
    assert.equal(await balance(rich), 40, '100 − 10 − 20 − 30: the repeat of pay-b-0 took nothing');
    assert.equal(await balance(poor), 5);
    // The same batch again changes nothing.
    const again = await call('POST', '/internal/debits/batch', { debits: [{ paymentId: 'pay-b-4', customerId: rich, amountCents: 3_000, currency: 'USD' }] });
    assert.deepEqual([again.body.results[0].status, again.body.results[0].body.replayed], [200, true]);
    assert.equal(await balance(rich), 40);
    const bad = await call('POST', '/internal/debits/batch', { debits: [] });
    assert.deepEqual([bad.status, bad.body.code, bad.body.field], [400, 'VALIDATION_FAILED', 'debits']);
  });

  it('validates internal debit bodies', async () => {
    const res = await call('POST', '/internal/debits', { paymentId: 'x', customerId: 'CUS_0001', amountCents: 1.5, currency: 'USD' });
    assert.deepEqual([res.status, res.body.field], [400, 'amountCents']);
  });
});
