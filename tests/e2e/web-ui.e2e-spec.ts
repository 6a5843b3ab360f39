/**
 * The web UI in a real browser (Debian's chromium via playwright-core) against the real Kafka stack,
 * every service its own process, the gateway serving the built SPA with AUTH_MODE=required (so the
 * event stream authenticates with its access_token query parameter):
 * the happy path ends PLACED with the wallet reduced by the total; insufficient funds shows the
 * reason and keeps the balance; out of stock shows `P001 is not available`; the operator sees the
 * order's saga timeline, cancels a saga held in flight (it compensates), and replays a dead letter.
 * Any browser console error fails the test. Screenshots of each main page go to .data/screenshots.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { TOPICS } from '@saga/contracts';
import { envelopeHeaders, newEnvelope } from '@saga/messaging';
import type { Browser } from 'playwright-core';
import { launchBrowser, watchedPage, type WatchedPage } from './browser.ts';
import { eventually, request } from './http.ts';
import { assertMatchesResponse } from './openapi-schema.ts';
import { DEMO_LOGINS } from '@saga/app-gateway';
import { authUsers, balance, startTestStack, type TestStack } from './support.ts';

const JWT_SECRET = randomBytes(32).toString('hex');

describe('web UI in a real browser (e2e, Kafka stack)', () => {
  let stack: TestStack;
  let browser: Browser;
  let gw: string;
  const pages: WatchedPage[] = [];
  let placedOrderId: string;
  let outOfStockOrderId: string;

  async function open(): Promise<WatchedPage> {
    const p = await watchedPage(browser, gw);
    pages.push(p);
    return p;
  }

  /** Signs in through the form, as a person would. */
  async function signIn(p: WatchedPage, username: string, password: string, landing: RegExp): Promise<void> {
    await p.page.goto('/');
    await p.page.getByLabel('Customer id or user name').fill(username);
    await p.page.getByLabel('Password').fill(password);
    await p.page.getByRole('button', { name: 'Sign in' }).click();
    await p.page.getByRole('heading', { level: 1, name: landing }).waitFor();
  }

  async function addToCartAndOrder(p: WatchedPage, productName: string): Promise<string> {
    await p.page.getByRole('button', { name: `Add ${productName} to cart` }).click();
    await p.page.getByRole('navigation').getByRole('link', { name: 'Cart (1)' }).click();
    await p.page.getByRole('heading', { level: 1, name: 'Your cart' }).waitFor();
    await p.page.getByRole('button', { name: 'Place order' }).click();
    await p.page.getByRole('heading', { level: 1, name: 'Payment' }).waitFor();
    await p.page.getByTestId('wallet-balance').waitFor();
    return decodeURIComponent(new URL(p.page.url()).pathname.split('/').pop()!);
  }

  const noErrors = (p: WatchedPage) => assert.deepEqual(p.errors, [], 'browser console errors');

  before(async () => {
    // Required mode with configured accounts (their passwords, for the test, are the demo ones).
    stack = await startTestStack('web', { AUTH_MODE: 'required', JWT_SECRET, AUTH_USERS: authUsers(DEMO_LOGINS) });
    gw = stack.url('gateway');
    browser = await launchBrowser();
  });
  after(async () => {
    for (const p of pages) await p.context.close().catch(() => undefined);
    await browser?.close();
    await stack?.stop();
  });

  it('serves the SPA at / and on its routes, keeps 404 JSON for unknown and API paths', async () => {
    for (const path of ['/', '/shop', '/pay/x', '/operator/sagas/x']) {
      const res = await request('GET', `${gw}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/, path);
      assert.match(String(res.body), /<div id="root">/, path);
    }
    for (const path of ['/nope', '/api/nope', '/orders/x/y', '/health/x']) {
      const res = await request('GET', `${gw}${path}`);
      assert.equal(res.status, 404, path);
      assert.equal(res.body.code, 'NOT_FOUND', path);
    }
  });

  let outOfStockCustomer: WatchedPage;

  it('happy path: catalog → cart → place order → pay; progress live over SSE; PLACED and the wallet reduced by the total', async () => {
    // A second customer puts the only laptop in the cart while it is still in stock (used below).
    outOfStockCustomer = await open();
    await signIn(outOfStockCustomer, 'CUS_0002', 'cus_0002-pass', /Catalog/);
    await outOfStockCustomer.page.getByRole('button', { name: 'Add Laptop to cart' }).click();

    const p = await open();
    await signIn(p, 'CUS_0001', 'cus_0001-pass', /Catalog/);
    await p.page.getByTestId('stock-P001').getByText('1 in stock').waitFor();
    await p.screenshot('catalog');
    // Responsive: on a phone-sized screen nothing overflows sideways.
    await p.page.setViewportSize({ width: 390, height: 844 });
    assert.ok(await p.page.evaluate(() => document.documentElement.scrollWidth <= 390), 'the catalog fits 390 px');
    await p.screenshot('catalog-mobile');
    await p.page.setViewportSize({ width: 1280, height: 900 });
    const before = await balance(stack, 'CUS_0001');
    placedOrderId = await addToCartAndOrder(p, 'Laptop');
    assert.equal(await p.page.getByTestId('order-amount').innerText(), '$999.99');
    assert.equal(await p.page.getByTestId('wallet-balance').innerText(), '$5,000.00');
    await p.page.getByTestId('order-status').getByText('INITIATED').waitFor();
    await p.screenshot('payment');

    await p.page.getByRole('button', { name: 'Pay $999.99' }).click();
    await p.page.getByTestId('outcome').getByText('Order placed.').waitFor({ timeout: 30_000 });
    // The status changes came over the event stream, step by step.
    const events = p.page.getByTestId('status-events');
    for (const status of ['PAYMENT PENDING', 'PAYMENT DONE', 'PLACED']) await events.getByText(status, { exact: true }).waitFor();
    assert.deepEqual(await p.page.locator('.steps li').evaluateAll((els) => els.map((e) => e.getAttribute('data-state'))), ['done', 'done', 'done', 'done']);
    await p.page.getByTestId('wallet-balance').getByText('$4,000.01').waitFor();
    await p.screenshot('payment-placed');
    await p.screenshotOf('.card:has(.steps)', 'payment-progress-card');
    assert.equal(await balance(stack, 'CUS_0001'), Math.round((before - 999.99) * 100) / 100);

    // Order history: status, status history.
    await p.page.getByRole('navigation').getByRole('link', { name: 'Orders' }).click();
    const card = p.page.locator(`[data-order="${placedOrderId}"]`);
    await card.getByText('PLACED').first().waitFor();
    await card.getByText(/Status history/).click();
    await card.getByText('PAYMENT DONE').waitFor();
    await p.screenshot('orders');

    // Wallet: the payment in the ledger, then a deposit.
    await p.page.getByRole('navigation').getByRole('link', { name: 'Wallet' }).click();
    await p.page.getByTestId('ledger').getByText('PAYMENT', { exact: true }).waitFor();
    await p.page.getByLabel('Amount (USD)').first().fill('10');
    await p.page.getByRole('button', { name: 'Deposit', exact: true }).click();
    await p.page.getByTestId('wallet-balance').getByText('$4,010.01').waitFor();
    await p.page.getByTestId('ledger').getByRole('cell', { name: '+$10.00' }).waitFor();
    await p.screenshot('wallet');
    assert.equal(await balance(stack, 'CUS_0001'), 4010.01);
    noErrors(p);
  });

  it('insufficient funds: shows the reason, the order FAILED, the balance unchanged', async () => {
    // Keyboard only: the sign-in form submits on Enter; the pay button is reached and pressed by keyboard.
    const p = await open();
    await p.page.goto('/sign-in');
    await p.page.getByLabel('Customer id or user name').fill('CUS_0004');
    await p.page.getByLabel('Password').fill('cus_0004-pass');
    await p.page.getByLabel('Password').press('Enter');
    await p.page.getByRole('heading', { level: 1, name: 'Catalog' }).waitFor();
    await addToCartAndOrder(p, 'Smartwatch'); // 129.99: more than CUS_0004's 100.00
    assert.equal(await p.page.getByTestId('wallet-balance').innerText(), '$100.00');
    await p.page.getByText('The balance is below the amount').waitFor();
    p.expectHttpError({ status: 402, url: /\/payment$/ });
    await p.page.getByRole('button', { name: 'Pay $129.99' }).focus();
    await p.page.keyboard.press('Enter');
    const outcome = p.page.getByTestId('outcome');
    await outcome.getByText('Insufficient funds:', { exact: true }).waitFor({ timeout: 30_000 });
    assert.match(await p.page.getByTestId('failure-reason').innerText(), /insufficient funds/i);
    await p.page.getByTestId('order-status').getByText('FAILED').waitFor();
    assert.equal(await p.page.getByTestId('wallet-balance').innerText(), '$100.00');
    await p.screenshot('payment-insufficient-funds');
    assert.equal(await balance(stack, 'CUS_0004'), 100);
    noErrors(p);
  });

  it('out of stock: the second laptop order shows `P001 is not available`', async () => {
    const p = outOfStockCustomer;
    await p.page.getByRole('navigation').getByRole('link', { name: 'Cart (1)' }).click();
    await p.page.getByRole('button', { name: 'Place order' }).click();
    await p.page.getByRole('heading', { level: 1, name: 'Payment' }).waitFor();
    outOfStockOrderId = decodeURIComponent(new URL(p.page.url()).pathname.split('/').pop()!);
    await p.page.getByTestId('wallet-balance').waitFor();
    p.expectHttpError({ status: 409, url: /\/payment$/ });
    await p.page.getByRole('button', { name: 'Pay $999.99' }).click();
    await p.page.getByTestId('outcome').getByText('Out of stock:', { exact: true }).waitFor({ timeout: 30_000 });
    assert.equal(await p.page.getByTestId('failure-reason').innerText(), 'P001 is not available');
    // The step list follows the order's events, a moment after the outcome: wait for it, bounded.
    await p.page.locator('.steps li:nth-child(2)[data-state="failed"]').waitFor({ timeout: 10_000 });
    await p.page.getByTestId('wallet-balance').getByText('$2,000.00').waitFor();
    await p.screenshot('payment-out-of-stock');
    noErrors(p);
  });

  let operator: WatchedPage;

  it("operator: the saga explorer lists the sagas and draws the placed order's step timeline", async () => {
    operator = await open();
    await signIn(operator, 'operator', 'operator-pass', /Saga explorer/);
    await operator.page.getByTestId('outcome-chart').waitFor();
    await operator.page.getByTestId('saga-list').getByRole('link', { name: placedOrderId }).waitFor();
    await operator.page.getByLabel('State').selectOption('COMPENSATED');
    await operator.page.getByTestId('saga-list').getByRole('link', { name: outOfStockOrderId }).waitFor();
    await operator.page.getByLabel('State').selectOption('');
    await operator.screenshot('operator-sagas');

    await operator.page.getByTestId('saga-list').getByRole('link', { name: placedOrderId }).click();
    const timeline = operator.page.getByTestId('saga-timeline');
    await timeline.waitFor();
    await operator.page.getByTestId('saga-status').getByText('COMPLETED').waitFor();
    const steps = await timeline.locator('g[data-step]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-step'), e.getAttribute('data-state')]));
    assert.deepEqual(steps, [
      ['markPaymentPending', 'SUCCEEDED'],
      ['reserveStock', 'SUCCEEDED'],
      ['processPayment', 'SUCCEEDED'],
      ['confirmOrder', 'SUCCEEDED'],
      ['commitStock', 'SUCCEEDED'],
    ]);
    // markPaymentPending is done as the saga starts (the order is PAYMENT_PENDING with its start event): no command.
    assert.equal(await timeline.locator('circle[fill="#fff"]').count(), 4, 'one command marker per step that sends one');
    await operator.page.getByTestId('saga-history').getByText('COMPLETED', { exact: true }).waitFor();
    await operator.screenshot('operator-saga-timeline');
    await operator.screenshotOf('.card:has([data-testid="saga-timeline"])', 'operator-saga-timeline-card');

    // The failed one: reserveStock failed, the first step compensated.
    await operator.page.goto(`/operator/sagas/${outOfStockOrderId}`);
    await operator.page.getByTestId('saga-status').getByText('COMPENSATED').waitFor();
    await operator.page.getByTestId('saga-failure').getByText(/P001 is not available/).waitFor();
    const failed = await operator.page.getByTestId('saga-timeline').locator('g[data-step]').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
    assert.deepEqual(failed.slice(0, 2), ['COMPENSATED', 'FAILED']);
    noErrors(operator);
  });

  it('operator: a dead-lettered message shows in the dead letters and is replayed once', async () => {
    const sagaId = `web-dlq-${randomUUID()}`;
    // A valid envelope whose payload breaks its schema (as in duplicates.e2e-spec): poison for inventory.
    const poison = { ...newEnvelope('ReleaseStock', { orderId: sagaId }, { sagaId }), type: 'ReserveStock' };
    const raw = new Producer({ clientId: 'e2e-web-raw', bootstrapBrokers: stack.brokers.split(','), serializers: stringSerializers });
    try {
      await raw.send({ messages: [{ topic: TOPICS.inventoryCommands, key: sagaId, value: JSON.stringify(poison.payload), headers: envelopeHeaders(poison) }] });
    } finally {
      await raw.close();
    }
    await operator.page.getByRole('navigation').getByRole('link', { name: 'Dead letters' }).click();
    const row = operator.page.locator(`tr[data-saga="${sagaId}"]`);
    await eventually(async () => {
      await operator.page.getByRole('button', { name: 'Refresh' }).click();
      return (await row.count()) === 1;
    }, 30_000, 500);
    await row.getByText('poison').waitFor();
    await operator.screenshot('operator-dead-letters');
    await row.getByRole('button', { name: /Replay dead letter/ }).click();
    await row.getByTestId('replayed').waitFor();
    await operator.page.getByText(/replayed to inventory\.commands as message/).waitFor();
    await operator.screenshot('operator-dead-letter-replayed');

    // The API agrees, and a second replay is refused.
    const token = (await request('POST', `${gw}/api/auth/login`, { username: 'operator', password: 'operator-pass' })).body.token as string;
    const auth = { authorization: `Bearer ${token}` };
    const listed = await request('GET', `${gw}/api/dead-letters?sagaId=${sagaId}&replayed=true`, undefined, auth);
    assert.equal(listed.status, 200);
    assertMatchesResponse('listDeadLetters', listed);
    assert.equal(listed.body.items.length, 1);
    assert.equal(listed.body.items[0].messageId, poison.id);
    assertMatchesResponse('getDeadLetter', await request('GET', `${gw}/api/dead-letters/${listed.body.items[0].id}`, undefined, auth));
    const again = await request('POST', `${gw}/api/dead-letters/${listed.body.items[0].id}/replay`, undefined, auth);
    assert.equal(again.status, 409);
    assertMatchesResponse('replayDeadLetter', again);
    // A customer may not see the dead letters.
    const customer = (await request('POST', `${gw}/api/auth/login`, { username: 'CUS_0001', password: 'cus_0001-pass' })).body.token as string;
    assert.equal((await request('GET', `${gw}/api/dead-letters`, undefined, { authorization: `Bearer ${customer}` })).status, 403);
    noErrors(operator);
  });

  it('operator: cancel of a saga held in flight (payment service down) compensates; the order FAILED with the reason', async () => {
    const token = (await request('POST', `${gw}/api/auth/login`, { username: 'CUS_0003', password: 'cus_0003-pass' })).body.token as string;
    const auth = { authorization: `Bearer ${token}` };
    await stack.stopService('payment');
    let orderId: string;
    try {
      const created = await request('POST', `${gw}/api/orders`, { customerId: 'CUS_0003', orderItems: [{ productId: 'P008', quantity: 2 }] }, auth);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      orderId = created.body.id;
      // The pay call waits for the outcome (or 202): not awaited, the saga is what we watch.
      const paying = request('POST', `${gw}/api/orders/${orderId}/payment`, undefined, auth).catch(() => undefined);
      // Wait (API) until the saga waits for the payment that cannot come, then act in the UI.
      const op = (await request('POST', `${gw}/api/auth/login`, { username: 'operator', password: 'operator-pass' })).body.token as string;
      await eventually(async () => (await request('GET', `${gw}/api/sagas/${orderId}`, undefined, { authorization: `Bearer ${op}` })).body?.currentStep === 'processPayment', 30_000, 100);
      await operator.page.goto(`/operator/sagas/${orderId}`);
      await operator.page.getByText('processPayment (attempt 1)').waitFor({ timeout: 30_000 });
      await operator.page.getByRole('button', { name: 'Cancel saga' }).click();
      await operator.page.getByLabel('Reason (optional)').fill('customer called support');
      await operator.page.getByRole('button', { name: 'Confirm cancel' }).click();
      await operator.page.getByText('Cancel sent: the saga compensates.').waitFor();
      await operator.page.getByTestId('saga-failure').getByText(/CANCELED_BY_OPERATOR at processPayment: customer called support/).waitFor();
      await operator.screenshot('operator-saga-canceled');
      await paying;
    } finally {
      await stack.startService('payment');
    }
    // With the payment service back, the compensations go through: debit (if any) refunded, stock released.
    await operator.page.getByTestId('saga-status').getByText('COMPENSATED').waitFor({ timeout: 60_000 });
    const order = await request('GET', `${gw}/api/orders/${orderId!}`, undefined, auth);
    assert.equal(order.body.status, 'FAILED');
    assert.equal(order.body.statusInfo, 'customer called support');
    await eventually(async () => (await balance(stack, 'CUS_0003')) === 1500, 30_000, 250);
    noErrors(operator);
  });

  it('leaves the services consistent (invariants I1–I6)', async () => {
    const result = await stack.settleAndCheck();
    assert.deepEqual(result.violations, []);
  });
});
