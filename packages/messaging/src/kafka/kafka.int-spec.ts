import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { MESSAGE_SCHEMAS, type Envelope } from '@saga/contracts';
import { migrate, type PgDatabase, type Queryable } from '@saga/postgres';
import { DLQ_HEADERS } from '../consumer/dead-letter';
import { perMessage } from '../consumer/per-message.handler';
import { startTransactionalConsumer } from '../consumer/transactional.consumer';
import { newEnvelope, toTopic } from '../envelope';
import { OutboxRelay } from '../outbox/outbox.relay';
import { enqueueOutbox } from '../outbox/outbox.writer';
import type { IncomingMessage, MessageBroker, OutgoingMessage, Subscription } from '../ports';
import { eventually } from '@saga/testing';
import { TestTopics } from '../testing/kafka-topics';
import { createTestDatabase, KAFKA_BROKERS, testLogger } from '../testing/test-support';
import { KafkaBroker } from './kafka.broker';
import { KafkaSubscription } from './kafka.subscription';

// End to end on the real Kafka (KAFKA_BROKERS, default 127.0.0.1:19092) and PostgreSQL: outbox →
// relay → Kafka → transactional consumer → effects + outbox → relay → Kafka.

const EFFECTS_SQL = `CREATE TABLE effect_log (id bigserial PRIMARY KEY, message_id uuid NOT NULL, key text NOT NULL, seq int NOT NULL, life text NOT NULL DEFAULT '')`;
const logger = testLogger();

function cmd(key: string, seq: number): Envelope {
  return newEnvelope('OrderStatusChanged', { orderId: key, customerId: 'c', status: String(seq), statusInfo: null }, { sagaId: key });
}

/** The effect under test: one row per handled message, and a reply on `out`. */
function effectTo(out: string, life = '') {
  return async (tx: Queryable, m: IncomingMessage): Promise<OutgoingMessage[]> => {
    const p = MESSAGE_SCHEMAS.OrderStatusChanged.parse(m.envelope.payload);
    await tx.query('INSERT INTO effect_log (message_id, key, seq, life) VALUES ($1, $2, $3, $4)', [m.envelope.id, m.key, Number(p.status), life]);
    return [toTopic(out, newEnvelope('OrderPlaced', { orderId: p.orderId }, { sagaId: m.key, causationId: m.envelope.id }))];
  };
}

function newBroker(clientId: string): KafkaBroker {
  return new KafkaBroker({ brokers: KAFKA_BROKERS, clientId, logger });
}

/** Every delivery of a topic to a group of its own, duplicates included. */
async function tap(broker: MessageBroker, topic: string, groupId: string): Promise<{ got: IncomingMessage[]; sub: Subscription }> {
  const got: IncomingMessage[] = [];
  const sub = await broker.subscribe({ groupId, topics: [topic], handler: async (batch) => void got.push(...batch) });
  await sub.ready;
  return { got, sub };
}

/** Decorates a broker so every batch delivered to its subscriptions is recorded. */
function recording(broker: MessageBroker, deliveries: string[]): MessageBroker {
  return {
    producer: () => broker.producer(),
    close: () => broker.close(),
    subscribe: (o) =>
      broker.subscribe({
        ...o,
        handler: async (batch) => {
          for (const m of batch) deliveries.push(m.envelope.id);
          return o.handler(batch);
        },
      }),
  };
}

/**
 * Decorates a broker to check that a partition is never in two batches at once (a batch may hold
 * several partitions, each in offset order) and to count batches in flight.
 */
function sequentialPerPartition(broker: MessageBroker, seen: { overlaps: number; maxParallel: number; batches: number }): MessageBroker {
  const busy = new Set<string>();
  let inFlight = 0;
  return {
    producer: () => broker.producer(),
    close: () => broker.close(),
    subscribe: (o) =>
      broker.subscribe({
        ...o,
        handler: async (batch) => {
          const partitions = [...new Set(batch.map((m) => `${m.topic}:${m.partition}`))];
          for (const p of partitions) {
            if (busy.has(p)) seen.overlaps++;
            busy.add(p);
            const offsets = batch.filter((m) => `${m.topic}:${m.partition}` === p).map((m) => BigInt(m.offset));
            if (offsets.some((off, i) => i > 0 && off <= offsets[i - 1]!)) seen.overlaps++;
          }
          inFlight++;
          seen.maxParallel = Math.max(seen.maxParallel, inFlight);
          seen.batches++;
          try {
            return await o.handler(batch);
          } finally {
            inFlight--;
            for (const p of partitions) busy.delete(p);
          }
        },
      }),
  };
}

async function effectCounts(db: Queryable): Promise<Map<string, number>> {
  const { rows } = await db.query<{ message_id: string; n: number }>('SELECT message_id, count(*)::int AS n FROM effect_log GROUP BY message_id');
  return new Map(rows.map((r) => [r.message_id, r.n]));
}

async function assertPerKeyOrder(db: Queryable): Promise<void> {
  const { rows } = await db.query<{ key: string; seqs: number[] }>('SELECT key, array_agg(seq ORDER BY id) AS seqs FROM effect_log GROUP BY key');
  for (const r of rows) assert.deepEqual(r.seqs, [...r.seqs].sort((a, b) => a - b), `effects of ${r.key} out of order`);
}

describe('Kafka end to end (outbox → relay → Kafka → transactional consumer)', () => {
  const topics = new TestTopics();
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    // Fails fast with a clear error when the shared broker is not there.
    await topics.create('probe', 1);
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => console.error('cleanup failed', err));
    await topics.cleanup();
  });

  async function database(withEffects: boolean): Promise<PgDatabase> {
    const t = await createTestDatabase(withEffects ? EFFECTS_SQL : undefined);
    cleanups.push(t.drop);
    return t.db;
  }

  it('1,000 messages over 20 keys: each handled exactly once, in order per key, across a rebalance; two relays publish each row once', async () => {
    const inTopic = await topics.create('e2e-in', 8);
    const outTopic = await topics.create('e2e-out', 4);
    const up = await database(false);
    const down = await database(true);

    const tapBroker = newBroker('it-tap');
    cleanups.push(() => tapBroker.close());
    const inTap = await tap(tapBroker, inTopic, topics.group('tap-in'));
    const outTap = await tap(tapBroker, outTopic, topics.group('tap-out'));

    // Consumer side: member 1 now, member 2 mid-stream (a rebalance while messages flow).
    const downBroker1 = newBroker('it-down-1');
    const downBroker2 = newBroker('it-down-2');
    cleanups.push(() => downBroker1.close(), () => downBroker2.close());
    const downRelay = new OutboxRelay({ db: down, producer: downBroker1.producer(), logger });
    downRelay.start();
    cleanups.push(() => downRelay.stop());
    const group = topics.group('e2e');
    const seen1 = { overlaps: 0, maxParallel: 0, batches: 0 };
    const seen2 = { overlaps: 0, maxParallel: 0, batches: 0 };
    const consumer = (broker: KafkaBroker, seen: typeof seen1) =>
      startTransactionalConsumer({
        broker: sequentialPerPartition(broker, seen),
        db: down,
        relay: downRelay,
        groupId: group,
        topics: [inTopic],
        logger,
        handle: perMessage(effectTo(outTopic)),
        maxBatchSize: 100,
        concurrency: 4,
      });
    const member1 = await consumer(downBroker1, seen1);
    await member1.ready;

    // Producer side: two relays (two processes) on one outbox.
    const upBrokerA = newBroker('it-up-a');
    const upBrokerB = newBroker('it-up-b');
    cleanups.push(() => upBrokerA.close(), () => upBrokerB.close());
    const relayA = new OutboxRelay({ db: up, producer: upBrokerA.producer(), logger, batchSize: 64, pollIntervalMs: 50 });
    const relayB = new OutboxRelay({ db: up, producer: upBrokerB.producer(), logger, batchSize: 64, pollIntervalMs: 50 });
    relayA.start();
    relayB.start();
    cleanups.push(() => relayA.stop(), () => relayB.stop());

    const envs: Envelope[] = [];
    for (let i = 0; i < 1_000; i++) envs.push(cmd(`key-${i % 20}`, Math.floor(i / 20)));
    let member2: Subscription | undefined;
    for (let t = 0; t < 50; t++) {
      const batch = envs.slice(t * 20, t * 20 + 20).map((e) => toTopic(inTopic, e));
      // A duplicate: the same message (same id) committed to the outbox a second time.
      if (t === 25) batch.push(toTopic(inTopic, envs[3]));
      await up.transaction((tx) => enqueueOutbox(tx, batch));
      (t % 2 ? relayA : relayB).wake();
      if (t === 20) {
        await eventually(async () => assert.ok((await effectCounts(down)).size >= 100), { timeoutMs: 30_000 });
        member2 = await consumer(downBroker2, seen2);
        // Joined = the group rebalanced; the remaining 600 messages are shared by both members.
        await member2.ready;
      }
    }

    await eventually(async () => assert.equal((await effectCounts(down)).size, 1_000), { timeoutMs: 60_000 });
    const counts = await effectCounts(down);
    assert.deepEqual([...counts.values()].filter((n) => n !== 1), [], 'no double effect');
    assert.deepEqual(new Set(counts.keys()), new Set(envs.map((e) => e.id)));
    await assertPerKeyOrder(down);
    assert.equal(seen1.overlaps + seen2.overlaps, 0, 'one batch at a time per partition');
    assert.ok(seen1.maxParallel <= 4 && seen2.maxParallel <= 4, 'bound on batches in flight');
    assert.ok(seen2.batches > 0, 'the second member took partitions over');

    // The replies made it out through the consumer's outbox, once each.
    await eventually(() => assert.equal(new Set(outTap.got.map((m) => m.envelope.causationId)).size, 1_000), { timeoutMs: 30_000 });
    assert.equal(outTap.got.length, 1_000);

    // Each outbox row went to Kafka once: 1,000 messages + the injected duplicate row.
    await eventually(() => assert.equal(inTap.got.length, 1_001), { timeoutMs: 10_000 });
    const perId = new Map<string, number>();
    for (const m of inTap.got) perId.set(m.envelope.id, (perId.get(m.envelope.id) ?? 0) + 1);
    assert.equal(perId.size, 1_000);
    assert.deepEqual([...perId].filter(([, n]) => n !== 1), [[envs[3].id, 2]]);
    assert.ok(relayA.publishedCount > 0 && relayB.publishedCount > 0, 'both relays published');
    assert.equal(relayA.publishedCount + relayB.publishedCount, 1_001);
    assert.equal(await relayA.backlog(), 0);
    // Headers and key made the trip.
    const sample = inTap.got.find((m) => m.envelope.id === envs[0].id);
    assert.deepEqual(sample?.envelope, envs[0]);
    assert.equal(sample?.key, 'key-0');

    await Promise.all([member1.close(), member2?.close()]);
    await inTap.sub.close();
    await outTap.sub.close();
  });

  it('dead-letters malformed and poison messages with error headers, retries a transient failure, and goes on', async () => {
    const inTopic = await topics.create('fail-in', 2);
    const outTopic = await topics.create('fail-out', 1);
    const down = await database(true);
    const broker = newBroker('it-fail');
    cleanups.push(() => broker.close());
    const relay = new OutboxRelay({ db: down, producer: broker.producer(), logger });
    relay.start();
    cleanups.push(() => relay.stop());
    const dlq = await tap(broker, `${inTopic}.dlq`, topics.group('tap-dlq'));

    const transient = cmd('b', 2);
    let transientFailures = 2;
    const effect = effectTo(outTopic);
    const sub = await startTransactionalConsumer({
      broker,
      db: down,
      relay,
      groupId: topics.group('fail'),
      topics: [inTopic],
      logger,
      retryInitialDelayMs: 10,
      handle: perMessage(async (tx, m) => {
        if (m.envelope.id === transient.id && transientFailures > 0) {
          transientFailures--;
          throw new Error('connection terminated unexpectedly (simulated)');
        }
        return effect(tx, m);
      }),
    });
    await sub.ready;

    const good1 = cmd('b', 1);
    const poison = { ...cmd('b', 3), payload: { orderId: 'b', status: '3' } }; // no customerId: ZodError in the handler
    const good2 = cmd('b', 4);
    await broker.producer().send([toTopic(inTopic, good1)]);
    // Malformed records straight from a raw producer: no envelope headers / a value that is not JSON.
    const raw = new Producer({ clientId: 'it-raw', bootstrapBrokers: KAFKA_BROKERS, serializers: stringSerializers });
    await raw.send({
      messages: [
        { topic: inTopic, key: 'b', value: '{"orderId":"b"}' },
        { topic: inTopic, key: 'b', value: 'garbage{', headers: { 'message-id': good2.id, 'message-type': 'OrderStatusChanged' } },
      ],
    });
    await raw.close();
    await broker.producer().send([transient, poison, good2].map((e) => toTopic(inTopic, e)));

    await eventually(async () => assert.equal((await effectCounts(down)).size, 3), { timeoutMs: 30_000 });
    const counts = await effectCounts(down);
    assert.deepEqual([...counts.keys()].sort(), [good1.id, transient.id, good2.id].sort());
    assert.ok([...counts.values()].every((n) => n === 1));
    assert.equal(transientFailures, 0);
    await assertPerKeyOrder(down);

    await eventually(() => assert.equal(dlq.got.length, 3), { timeoutMs: 20_000 });
    const [noHeaders, notJson, poisoned] = dlq.got;
    assert.equal(noHeaders.headers?.[DLQ_HEADERS.reason], 'malformed');
    assert.match(noHeaders.headers?.[DLQ_HEADERS.error] ?? '', /message-id/);
    assert.equal(noHeaders.headers?.[DLQ_HEADERS.originalTopic], inTopic);
    assert.equal(noHeaders.headers?.[DLQ_HEADERS.originalOffset], '1'); // after good1 on the same partition
    assert.equal(noHeaders.key, 'b');
    assert.equal(notJson.headers?.[DLQ_HEADERS.reason], 'malformed');
    assert.match(notJson.headers?.[DLQ_HEADERS.error] ?? '', /not JSON/);
    assert.equal(notJson.headers?.[DLQ_HEADERS.originalOffset], '2');
    assert.equal(poisoned.envelope.id, poison.id);
    assert.equal(poisoned.headers?.[DLQ_HEADERS.reason], 'poison');
    assert.equal(poisoned.headers?.[DLQ_HEADERS.consumerGroup], topics.group('fail'));
    assert.equal(poisoned.headers?.[DLQ_HEADERS.originalPartition], String(noHeaders.headers?.[DLQ_HEADERS.originalPartition]));
    await sub.close();
    await dlq.sub.close();
  });

  it('a consumer that dies after its transaction but before its offset commit: the restart redelivers without double effects', async () => {
    const inTopic = await topics.create('crash-in', 4);
    const outTopic = await topics.create('crash-out', 1);
    const down = await database(true);
    const producerBroker = newBroker('it-crash-producer');
    cleanups.push(() => producerBroker.close());
    const relay = new OutboxRelay({ db: down, producer: producerBroker.producer(), logger });
    relay.start();
    cleanups.push(() => relay.stop());
    const group = topics.group('crash');
    const effect = effectTo(outTopic, 'first');

    // First life: dies (abort: no offset commit, group left) inside the handling of a batch, once
    // 150 effects exist. That batch's transaction still commits, like a crash right after COMMIT.
    const firstDeliveries: string[] = [];
    const brokerA = newBroker('it-crash-a');
    cleanups.push(() => brokerA.close());
    let handled = 0;
    let crashed: Promise<void> | undefined;
    let subA: Subscription | undefined;
    subA = await startTransactionalConsumer({
      broker: recording(brokerA, firstDeliveries),
      db: down,
      relay,
      groupId: group,
      topics: [inTopic],
      logger,
      maxBatchSize: 25,
      handle: perMessage(async (tx, m) => {
        const out = await effect(tx, m);
        if (++handled >= 150 && !crashed) {
          assert.ok(subA instanceof KafkaSubscription);
          crashed = subA.abort();
        }
        return out;
      }),
    });
    await subA.ready;

    const envs = Array.from({ length: 400 }, (_, i) => cmd(`c${i % 10}`, Math.floor(i / 10)));
    for (let i = 0; i < 400; i += 50) await producerBroker.producer().send(envs.slice(i, i + 50).map((e) => toTopic(inTopic, e)));
    await eventually(() => assert.ok(crashed), { timeoutMs: 30_000 });
    await crashed;
    const afterCrash = await effectCounts(down);
    // (batches in hand at the crash may still commit: the count only grows from here)
    assert.ok(afterCrash.size > 0 && afterCrash.size < 400, `first life handled ${afterCrash.size}`);

    // Second life, same group: starts from the last committed offsets.
    const secondDeliveries: string[] = [];
    const brokerB = newBroker('it-crash-b');
    cleanups.push(() => brokerB.close());
    const subB = await startTransactionalConsumer({
      broker: recording(brokerB, secondDeliveries),
      db: down,
      relay,
      groupId: group,
      topics: [inTopic],
      logger,
      handle: perMessage(effectTo(outTopic, 'second')),
    });
    await subB.ready;
    await eventually(async () => assert.equal((await effectCounts(down)).size, 400), { timeoutMs: 60_000 });
    const counts = await effectCounts(down);
    assert.deepEqual([...counts.values()].filter((n) => n !== 1), [], 'no double effect');
    await assertPerKeyOrder(down);
    // The batch in hand at the crash committed its effects but never its offsets: the second life
    // got those messages again, and the inbox skipped them.
    const { rows } = await down.query<{ message_id: string }>("SELECT message_id FROM effect_log WHERE life = 'first'");
    const byFirst = new Set(rows.map((r) => r.message_id));
    assert.ok(byFirst.size >= afterCrash.size);
    const redelivered = secondDeliveries.filter((id) => byFirst.has(id));
    assert.ok(redelivered.length > 0, 'messages handled before the crash were delivered again (and skipped)');
    assert.ok(firstDeliveries.length > 0);
    await subB.close();
  });
});
