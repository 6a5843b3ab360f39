/**
 * The scale-out rig under faults (ADR 13): three Kafka nodes (RF 3, min.insync.replicas=2) on ports
 * of their own (not the test broker's 19192/19193), two instances of every service behind the
 * gateway, and a steady stream of one-call orders through it. One broker is killed with kill -9 and
 * restarted (it rejoins, its replicas catch up), then one instance of each service. Afterwards: no
 * client request failed, every saga ended, DESIGN §6's invariants hold, every acknowledged order is
 * in the order database. The pauses are reported, not asserted (timing on a shared 2-core machine);
 * `node tools/cluster/measure-failover.ts` measures them on their own.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { runDrill, type DrillResult } from '../../tools/cluster/measure-failover.ts';
import { DATABASE_URL } from './support.ts';

describe('cluster failover (e2e): three Kafka nodes, two instances of every service', () => {
  let drill: DrillResult | undefined;
  after(async () => {
    await drill?.stop();
  });

  it('loses no client request and no acknowledged order when a broker, then one instance of each service, is killed', { timeout: 420_000 }, async (t) => {
    drill = await runDrill({
      ratePerS: 15,
      concurrency: 48,
      warmupS: 8,
      observeS: 8,
      settleS: 3,
      portOffset: 25_000 + Math.floor(Math.random() * 40) * 10,
      kafkaPort: 39_592,
      databaseUrl: DATABASE_URL,
      say: (line) => t.diagnostic(line),
    });
    for (const r of drill.results) t.diagnostic(`kill -9 ${r.target}: longest pause ${Math.round(r.pauseMs)} ms`);
    assert.deepEqual(
      drill.failed.map((r) => `${r.key}: ${r.error}`),
      [],
      `${drill.failed.length} of ${drill.orders.length} client requests failed`,
    );
    assert.ok(drill.orders.length >= 500, `only ${drill.orders.length} orders streamed`);
    const check = await drill.settleAndCheck(120_000);
    assert.deepEqual(check.violations, [], 'DESIGN §6 invariants (I1 included: every saga ended)');
    assert.deepEqual(await drill.missingOrders(), [], 'every acknowledged order is in the order database');
    const unfinished = drill.orders.filter((r) => r.completedMs === undefined);
    assert.deepEqual(unfinished.map((r) => r.key), [], 'every streamed order was seen finished');
    assert.ok(drill.orders.every((r) => r.outcome === 'PLACED'), 'every order placed (plenty of stock and money)');
  });
});
