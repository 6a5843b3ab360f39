/**
 * Versioned saga definitions across a deploy (docs/adr/0011): 100 place-order sagas start on v1 and
 * are caught mid-way (the payment service is down, so they wait at the pivot) when the orchestrator
 * stops; it comes back with v1 and v2 registered. Every v1 saga ends on v1's steps, every new saga
 * runs v2's (one more step, checkStock). Then a saga whose version is unregistered (a rollback to
 * v1 only while a v2 saga waits) is surfaced in GET /api/sagas and the metrics, its reply parked,
 * and it resumes and completes on v2 when v2 is registered again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, get, post, signIn, type Client } from './http.ts';
import { createProduct, createWallet, queryService, startTestStack, type TestStack } from './support.ts';

const SAGAS = 100;
const NEW_SAGAS = 20;
const V1_STEPS = ['markPaymentPending', 'reserveStock', 'processPayment', 'confirmOrder', 'commitStock'];
const V2_STEPS = ['markPaymentPending', 'checkStock', 'reserveStock', 'processPayment', 'confirmOrder', 'commitStock'];

interface SagaRow {
  id: string;
  definition_version: number;
  status: string;
  created_at: Date;
  steps: string[];
}

describe('saga definition versions (e2e): v1 sagas finish on v1 across a deploy of v2; a missing version is surfaced', () => {
  let stack: TestStack;
  let operator: Client;
  const tag = Date.now().toString(36).toUpperCase();
  const product = `PV_${tag}`;
  const customer = `CV_${tag}`;

  before(async () => {
    // Long payment deadline: a saga waiting at the pivot while payment is down is not re-sent or failed.
    stack = await startTestStack('saga_versions', { PAYMENT_TIMEOUT_MS: '120000' }, {});
    await stack.stopService('orchestrator');
    await stack.startService('orchestrator', { PLACE_ORDER_SAGA_VERSIONS: '1' });
    await createProduct(stack, product, 2, 1_000_000);
    await createWallet(stack, customer, 1_000_000);
    operator = await signIn(stack.url('gateway'), 'operator');
  });
  after(async () => {
    await stack?.stop();
  });

  const order = () => post(`${stack.url('order')}/orders`, { customerId: customer, orderItems: [{ productId: product, quantity: 1 }] });

  /** Every saga of the orchestrator with the steps its history shows a command sent for (done-at-start steps included). */
  async function sagas(): Promise<SagaRow[]> {
    return queryService<SagaRow>(
      stack,
      'orchestrator',
      `SELECT s.id, s.definition_version, s.status, s.created_at,
         array(SELECT DISTINCT h.step FROM saga_history h WHERE h.saga_id = s.id AND h.event IN ('COMMAND_SENT', 'STARTED')) AS steps
       FROM saga_instances s ORDER BY s.created_at`,
    );
  }
  const stepsOf = (r: SagaRow) => [...new Set([...r.steps, 'markPaymentPending'])];
  const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

  it(`${SAGAS} sagas start on v1, the orchestrator stops mid-way and returns with v1 + v2: v1 sagas end on v1, new ones run v2`, async () => {
    // the v1 sagas wait at the pivot while payment is down
    await stack.stopService('payment');
    const calls = Array.from({ length: SAGAS }, () => order());
    const started = await eventually(async () => {
      const rows = await sagas();
      return rows.length === SAGAS && rows.every((r) => r.steps.includes('processPayment')) ? rows : false;
    }, 60_000, 250);
    assert.ok(started.every((r) => r.definition_version === 1 && r.status === 'RUNNING'));

    await stack.stopService('orchestrator');
    await stack.startService('payment');
    await Promise.all(calls); // 202s: the sagas did not end within the order service's wait
    await stack.startService('orchestrator', { PLACE_ORDER_SAGA_VERSIONS: '1,2' });
    const deployedAt = new Date();

    const created = await Promise.all(Array.from({ length: NEW_SAGAS }, () => order()));
    assert.ok(created.every((r) => r.status === 201 || r.status === 202), JSON.stringify(created.map((r) => r.status)));

    const rows = await eventually(async () => {
      const all = await sagas();
      return all.length === SAGAS + NEW_SAGAS && all.every((r) => r.status === 'COMPLETED') ? all : false;
    }, 90_000, 500);
    const v1 = rows.filter((r) => r.created_at < deployedAt);
    const v2 = rows.filter((r) => r.created_at >= deployedAt);
    assert.equal(v1.length, SAGAS);
    assert.equal(v2.length, NEW_SAGAS);
    for (const r of v1) {
      assert.equal(r.definition_version, 1, `saga ${r.id} started before the deploy runs v1`);
      assert.ok(sameSet(stepsOf(r), V1_STEPS), `saga ${r.id} ran v1's steps: ${r.steps}`);
    }
    for (const r of v2) {
      assert.equal(r.definition_version, 2, `saga ${r.id} started after the deploy runs v2`);
      assert.ok(sameSet(stepsOf(r), V2_STEPS), `saga ${r.id} ran v2's steps: ${r.steps}`);
    }

    // the operator API shows each saga's version, and the step timeline of its own version
    const one = await operator.get(`${stack.url('gateway')}/api/sagas/${v1[0].id}`);
    assert.equal(one.status, 200, JSON.stringify(one.body));
    assert.equal(one.body.definitionVersion, 1);
    assert.equal(one.body.versionMissing, false);
    assert.deepEqual(one.body.steps.map((s: { name: string }) => s.name), V1_STEPS);
    const two = await operator.get(`${stack.url('gateway')}/api/sagas/${v2[0].id}`);
    assert.equal(two.body.definitionVersion, 2);
    assert.deepEqual(two.body.steps.map((s: { name: string; state: string }) => `${s.name}:${s.state}`), V2_STEPS.map((s) => `${s}:SUCCEEDED`));
    const page = await operator.get(`${stack.url('gateway')}/api/sagas?limit=200`);
    assert.equal(page.status, 200);
    assert.deepEqual(
      [...new Set(page.body.items.map((s: { definitionVersion: number }) => s.definitionVersion))].sort(),
      [1, 2],
    );
  });

  it('a saga whose version is then unregistered is surfaced (GET /api/sagas, metrics), its reply kept; registered again, it completes', async () => {
    await stack.stopService('payment');
    await order();
    const waiting = await eventually(async () => {
      const r = (await sagas()).find((s) => s.status === 'RUNNING');
      return r?.steps.includes('processPayment') ? r : false;
    }, 30_000, 250);
    assert.equal(waiting.definition_version, 2);

    // roll back to v1 only while the v2 saga waits
    await stack.stopService('orchestrator');
    await stack.startService('orchestrator', { PLACE_ORDER_SAGA_VERSIONS: '1' });
    await stack.startService('payment'); // its PaymentCompleted reaches an orchestrator without v2

    const gw = stack.url('gateway');
    const missing = await operator.get(`${gw}/api/sagas?versionMissing=true`);
    assert.equal(missing.status, 200, JSON.stringify(missing.body));
    assert.deepEqual(
      missing.body.items.map((s: { id: string; definitionVersion: number; versionMissing: boolean; status: string }) => [s.id, s.definitionVersion, s.versionMissing, s.status]),
      [[waiting.id, 2, true, 'RUNNING']],
    );
    const listed = await operator.get(`${gw}/api/sagas?limit=5&sort=desc`);
    assert.equal(listed.body.items.find((s: { id: string }) => s.id === waiting.id)?.versionMissing, true);
    // the payment's reply is kept, not dropped
    await eventually(async () => (await operator.get(`${gw}/api/sagas/${waiting.id}`)).body.parkedEvents >= 1, 30_000, 250);
    const metrics = await get(`${stack.url('orchestrator')}/metrics`);
    assert.match(String(metrics.body), /saga_version_missing\{service="orchestrator",saga="PlaceOrder",version="2"\} 1\b/);
    // operator actions need the saga's definition: refused with the reason
    const cancel = await operator.post(`${gw}/api/sagas/${waiting.id}/cancel`, {});
    assert.equal(cancel.status, 409, JSON.stringify(cancel.body));
    assert.match(cancel.body.message, /PlaceOrder v2/);

    // v2 registered again: the kept reply is applied and the saga completes on v2
    await stack.stopService('orchestrator');
    await stack.startService('orchestrator', { PLACE_ORDER_SAGA_VERSIONS: '1,2' });
    const done = await eventually(async () => {
      const r = await operator.get(`${gw}/api/sagas/${waiting.id}`);
      return r.body.status === 'COMPLETED' ? r.body : false;
    }, 60_000, 250);
    assert.equal(done.versionMissing, false);
    assert.equal(done.parkedEvents, 0);
    assert.deepEqual(done.steps.map((s: { name: string }) => s.name), V2_STEPS);
    const after = await get(`${stack.url('orchestrator')}/metrics`);
    assert.doesNotMatch(String(after.body), /saga_version_missing\{[^}]*\} [1-9]/);
    assert.deepEqual((await operator.get(`${gw}/api/sagas?versionMissing=true`)).body.items, []);

    const result = await stack.settleAndCheck(60_000);
    assert.deepEqual(result.violations, [], JSON.stringify(result.counts));
  });
});
