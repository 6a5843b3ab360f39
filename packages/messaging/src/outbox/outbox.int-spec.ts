import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { PgDatabase } from '@saga/postgres';
import { newEnvelope, toTopic } from '../envelope';
import { InMemoryBroker } from '../in-memory/in-memory.broker';
import { claimInbox, pruneInbox } from '../inbox/inbox.repository';
import type { IncomingMessage, OutgoingMessage } from '../ports';
import { eventually } from '@saga/testing';
import { capturingLogger, createTestDatabase, testLogger } from '../testing/test-support';
import { OutboxRelay } from './outbox.relay';
import { enqueueOutbox } from './outbox.writer';

function out(topic: string, key: string, seq: number): OutgoingMessage {
  return toTopic(topic, newEnvelope('OrderStatusChanged', { orderId: key, customerId: 'c', status: String(seq), statusInfo: null }, { sagaId: key }));
}
const seqOf = (m: IncomingMessage) => Number((m.envelope.payload as { status: string }).status);

describe('outbox, relay and inbox (PostgreSQL)', () => {
  let db: PgDatabase;
  let drop: () => Promise<void>;
  const logger = testLogger();

  before(async () => {
    ({ db, drop } = await createTestDatabase());
  });
  after(async () => {
    await drop();
  });
  beforeEach(async () => {
    await db.query('TRUNCATE outbox, inbox');
  });

  it('enqueueOutbox writes a batch in one statement, in order, with headers and payload', async () => {
    const ms = Array.from({ length: 5 }, (_, i) => out('t', `k${i}`, i));
    ms[2] = { ...ms[2], headers: { 'x-extra': 'yes' } };
    await db.transaction((tx) => enqueueOutbox(tx, ms));
    const { rows } = await db.query<{ topic: string; key: string; headers: Record<string, string>; payload: unknown }>(
      'SELECT topic, key, headers, payload FROM outbox ORDER BY id',
    );
    assert.deepEqual(rows.map((r) => r.key), ['k0', 'k1', 'k2', 'k3', 'k4']);
    assert.equal(rows[0].headers['message-id'], ms[0].envelope.id);
    assert.equal(rows[0].headers['message-type'], 'OrderStatusChanged');
    assert.equal(rows[2].headers['x-extra'], 'yes');
    assert.deepEqual(rows[3].payload, ms[3].envelope.payload);
    await db.transaction((tx) => enqueueOutbox(tx, []));
    assert.equal((await db.query('SELECT 1 FROM outbox')).rowCount, 5);
  });

  it('rows of a rolled-back transaction are never published', async () => {
    await assert.rejects(
      db.transaction(async (tx) => {
        await enqueueOutbox(tx, [out('t', 'k', 1)]);
        throw new Error('business rule failed');
      }),
    );
    assert.equal((await db.query('SELECT 1 FROM outbox')).rowCount, 0);
  });

  it('relay publishes everything in id order (several rounds), deletes it, and reports the backlog', async () => {
    const broker = new InMemoryBroker({ partitions: 1 });
    const relay = new OutboxRelay({ db, producer: broker.producer(), logger, batchSize: 100, pollIntervalMs: 3_600_000 });
    await db.transaction((tx) => enqueueOutbox(tx, Array.from({ length: 1_250 }, (_, i) => out('t', `k${i % 7}`, i))));
    assert.equal(await relay.backlog(), 1_250);
    relay.start(); // start() runs a first round: no poll needed
    await eventually(() => assert.equal(broker.messages('t').length, 1_250));
    assert.deepEqual(broker.messages('t').map(seqOf), Array.from({ length: 1_250 }, (_, i) => i));
    assert.equal(await relay.backlog(), 0);
    assert.equal(relay.publishedCount, 1_250);
    await relay.stop();
    await broker.close();
  });

  it('wake() is the fast path: rows committed while a round is in flight are picked up without a poll', async () => {
    const broker = new InMemoryBroker();
    const relay = new OutboxRelay({ db, producer: broker.producer(), logger, batchSize: 10, pollIntervalMs: 3_600_000 });
    relay.start();
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; i < 40; i++) {
        await db.transaction((tx) => enqueueOutbox(tx, [out('t', `w${w}`, i), out('t', `w${w}`, i + 1000)]));
        relay.wake();
      }
    });
    await Promise.all(writers);
    await eventually(() => assert.equal(broker.messages('t').length, 320), { timeoutMs: 5_000 });
    for (let w = 0; w < 4; w++) {
      const seqs = broker.messages('t').filter((m) => m.key === `w${w}`).map(seqOf);
      assert.deepEqual(seqs, Array.from({ length: 40 }, (_, i) => [i, i + 1000]).flat(), `order of writer ${w}`);
    }
    await relay.stop();
    await broker.close();
  });

  it('relay.transaction is the fast path: committed rows go out without a claim and are deleted after', async () => {
    const broker = new InMemoryBroker({ partitions: 1 });
    const relay = new OutboxRelay({ db, producer: broker.producer(), logger, pollIntervalMs: 3_600_000 });
    relay.start();
    await eventually(async () => assert.equal(await relay.backlog(), 0));
    const written = await db.transaction((tx) => enqueueOutbox(tx, [out('other', 'k', 0), out('other', 'k', 1)]));
    assert.ok(written.ids.length === 2 && written.ids[0] < written.ids[1], 'enqueueOutbox returns the ids in message order');
    await assert.rejects(relay.transaction(async (tx, enqueue) => {
      await enqueue([out('t', 'k', -1)]);
      throw new Error('rolled back');
    }));
    for (let i = 0; i < 30; i++) await relay.transaction((_tx, enqueue) => enqueue([out('t', 'k', 2 * i), out('t', 'k', 2 * i + 1)]));
    await eventually(() => assert.equal(broker.messages('t').length, 60));
    assert.deepEqual(broker.messages('t').map(seqOf), Array.from({ length: 60 }, (_, i) => i));
    // The fast path sends only its own rows: the two written without it wait for a claim round.
    await eventually(async () => assert.equal(await relay.backlog(), 2));
    relay.wake();
    await eventually(async () => assert.equal(await relay.backlog(), 0));
    assert.equal(broker.messages('other').length, 2);
    await relay.stop();
    await broker.close();
  });

  it('published fast-path rows are deleted by the next transaction, or by the sweep when none comes; a claim round never re-sends them', async () => {
    const broker = new InMemoryBroker({ partitions: 1 });
    const statements: string[] = [];
    const counted = {
      query: (sql: string, params?: readonly unknown[]) => (statements.push(sql), db.query(sql, params)),
      transaction: db.transaction.bind(db),
      close: async () => undefined,
    } as unknown as PgDatabase;
    const relay = new OutboxRelay({ db: counted, producer: broker.producer(), logger, pollIntervalMs: 3_600_000, sweepDelayMs: 3_600_000 });
    relay.start();
    await eventually(async () => assert.equal(await relay.backlog(), 0));
    const commit = (...seqs: number[]) => relay.transaction((_tx, enqueue) => enqueue(seqs.map((n) => out('t', 'k', n))));
    await commit(1, 2);
    await eventually(() => assert.equal(broker.messages('t').length, 2));
    assert.equal(await relay.backlog(), 2, 'published, not deleted yet: it waits for the next transaction');
    // an empty enqueue first (nothing written) must not lose the ids to delete
    await relay.transaction(async (_tx, enqueue) => {
      await enqueue([]);
      await enqueue([out('t', 'k', 3)]);
    });
    await eventually(() => assert.equal(broker.messages('t').length, 3));
    const left = await db.query<{ id: number }>('SELECT id FROM outbox');
    assert.equal(left.rows.length, 1, 'the second transaction deleted the first one\'s rows');
    // A claim round (here for a row written without the fast path) skips the published row.
    await db.transaction((tx) => enqueueOutbox(tx, [out('t', 'k', 4)]));
    relay.wake();
    await eventually(() => assert.equal(broker.messages('t').length, 4));
    assert.deepEqual(broker.messages('t').map(seqOf), [1, 2, 3, 4]);
    assert.equal(statements.filter((q) => q.startsWith('DELETE FROM outbox')).length, 0, 'no delete statement of its own so far');
    await relay.stop(); // sweeps what no transaction took
    assert.equal(await relay.backlog(), 0);
    assert.equal(statements.filter((q) => q.startsWith('DELETE FROM outbox')).length, 1);
    assert.equal(broker.messages('t').length, 4);
    await broker.close();
  });

  it('idle, the sweep deletes published rows within sweepDelayMs', async () => {
    const broker = new InMemoryBroker({ partitions: 1 });
    const relay = new OutboxRelay({ db, producer: broker.producer(), logger, pollIntervalMs: 3_600_000, sweepDelayMs: 20 });
    relay.start();
    await relay.transaction((_tx, enqueue) => enqueue([out('t', 'k', 1)]));
    await eventually(async () => assert.equal(await relay.backlog(), 0));
    assert.equal(broker.messages('t').length, 1);
    await relay.stop();
    await broker.close();
  });

  it('after a failed send, rows left behind go out before newer fast-path rows, each once', async () => {
    const broker = new InMemoryBroker({ partitions: 1 });
    const inner = broker.producer();
    let failures = 1;
    const flaky = {
      close: async () => undefined,
      send: async (ms: readonly OutgoingMessage[]) => {
        if (failures > 0) {
          failures--;
          throw new Error('broker away');
        }
        await inner.send(ms);
      },
    };
    const relay = new OutboxRelay({ db, producer: flaky, logger, pollIntervalMs: 20 });
    relay.start();
    await eventually(async () => assert.equal(await relay.backlog(), 0));
    const commit = (...seqs: number[]) => relay.transaction((_tx, enqueue) => enqueue(seqs.map((n) => out('t', 'k', n))));
    await commit(1, 2); // its send fails: the rows stay
    await commit(3, 4); // queued behind them
    await eventually(() => assert.equal(broker.messages('t').length, 4), { timeoutMs: 5_000 });
    await commit(5);
    await eventually(() => assert.equal(broker.messages('t').length, 5));
    assert.deepEqual(broker.messages('t').map(seqOf), [1, 2, 3, 4, 5]);
    await eventually(async () => assert.equal(await relay.backlog(), 0));
    await relay.stop();
    await broker.close();
  });

  it('two relays on one outbox publish each row exactly once, keeping per-key order', async () => {
    const broker = new InMemoryBroker({ partitions: 3 });
    const a = new OutboxRelay({ db, producer: broker.producer(), logger, batchSize: 50, pollIntervalMs: 20 });
    const b = new OutboxRelay({ db, producer: broker.producer(), logger, batchSize: 50, pollIntervalMs: 20 });
    a.start();
    b.start();
    const writers = Array.from({ length: 6 }, async (_, w) => {
      for (let i = 0; i < 50; i++) {
        await db.transaction((tx) => enqueueOutbox(tx, Array.from({ length: 5 }, (_, j) => out('t', `key-${(w * 50 + i + j) % 23}`, w * 1_000_000 + i * 10 + j))));
        (i % 2 ? a : b).wake();
      }
    });
    await Promise.all(writers);
    await eventually(() => assert.equal(broker.messages('t').length, 1_500), { timeoutMs: 10_000 });
    const ids = broker.messages('t').map((m) => m.envelope.id);
    assert.equal(new Set(ids).size, 1_500, 'no row published twice');
    assert.ok(a.publishedCount > 0 && b.publishedCount > 0, `both relays worked (${a.publishedCount}/${b.publishedCount})`);
    assert.equal(a.publishedCount + b.publishedCount, 1_500);
    // per key, the order of enqueueing (= outbox id order) is kept
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox');
    assert.equal(rows[0].n, 0);
    for (let k = 0; k < 23; k++) {
      const seqs = broker.messages('t').filter((m) => m.key === `key-${k}`).map(seqOf);
      const byWriter = new Map<number, number[]>();
      for (const s of seqs) byWriter.set(Math.floor(s / 1_000_000), [...(byWriter.get(Math.floor(s / 1_000_000)) ?? []), s]);
      for (const [w, list] of byWriter) assert.deepEqual(list, [...list].sort((x, y) => x - y), `key-${k} writer ${w}`);
    }
    await Promise.all([a.stop(), b.stop()]);
    await broker.close();
  });

  it('when publishing fails the rows stay, and are published once the broker is back', async () => {
    const down = new InMemoryBroker();
    await down.close(); // its producer now fails every send
    const capture = capturingLogger();
    const failing = new OutboxRelay({ db, producer: down.producer(), logger: capture.logger, pollIntervalMs: 20 });
    await db.transaction((tx) => enqueueOutbox(tx, [out('t', 'k', 1), out('t', 'k', 2)]));
    failing.start();
    await eventually(() => assert.ok(capture.records.filter((r) => r.msg === 'outbox publish failed').length >= 2));
    assert.equal(await failing.backlog(), 2);
    assert.equal(failing.publishedCount, 0);
    await failing.stop();

    const up = new InMemoryBroker();
    const relay = new OutboxRelay({ db, producer: up.producer(), logger });
    relay.start();
    await eventually(() => assert.deepEqual(up.messages('t').map(seqOf), [1, 2]));
    assert.equal(await relay.backlog(), 0);
    await relay.stop();
    await up.close();
  });

  it('claimInbox returns only first-seen messages, once per id, in batch order', async () => {
    const e = Array.from({ length: 4 }, (_, i) => out('t', 'k', i).envelope);
    const m = (i: number, offset: number): IncomingMessage => ({ topic: 't', partition: 0, offset: String(offset), key: 'k', envelope: e[i] });
    const first = await db.transaction((tx) => claimInbox(tx, [m(0, 0), m(1, 1), m(1, 2)]));
    assert.deepEqual(first.map((x) => x.offset), ['0', '1']);
    const upper: IncomingMessage = { ...m(3, 9), envelope: { ...e[3], id: e[3].id.toUpperCase() } };
    const second = await db.transaction((tx) => claimInbox(tx, [m(1, 3), m(2, 4), m(0, 5), upper]));
    assert.deepEqual(second.map((x) => x.offset), ['4', '9']);
    // A rolled-back claim leaves no trace.
    await assert.rejects(
      db.transaction(async (tx) => {
        await claimInbox(tx, [m(2, 6)]);
        throw new Error('handler failed');
      }),
    );
    assert.equal((await db.query('SELECT 1 FROM inbox')).rowCount, 4);
  });

  it('inbox retention deletes rows older than N days only', async () => {
    const e = Array.from({ length: 30 }, (_, i) => out('t', 'k', i).envelope);
    await db.transaction((tx) => claimInbox(tx, e.map((envelope, i) => ({ topic: 't', partition: 0, offset: String(i), key: 'k', envelope }))));
    await db.query("UPDATE inbox SET received_at = now() - interval '10 days' WHERE message_id = ANY($1::uuid[])", [e.slice(0, 20).map((x) => x.id)]);
    assert.equal(await pruneInbox(db, 7, 6), 20); // several chunks of 6
    const { rows } = await db.query<{ message_id: string }>('SELECT message_id FROM inbox');
    assert.deepEqual(new Set(rows.map((r) => r.message_id)), new Set(e.slice(20).map((x) => x.id)));
  });

  it('the relay runs inbox retention now and then', async () => {
    const e = out('t', 'k', 0).envelope;
    await db.transaction((tx) => claimInbox(tx, [{ topic: 't', partition: 0, offset: '0', key: 'k', envelope: e }]));
    await db.query("UPDATE inbox SET received_at = now() - interval '30 days'");
    const broker = new InMemoryBroker();
    const relay = new OutboxRelay({ db, producer: broker.producer(), logger, pollIntervalMs: 10, inboxRetentionDays: 7, inboxRetentionIntervalMs: 20 });
    relay.start();
    await eventually(async () => assert.equal((await db.query('SELECT 1 FROM inbox')).rowCount, 0));
    await relay.stop();
    await broker.close();
  });
});
