import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MESSAGE_SCHEMAS, type Envelope } from '@saga/contracts';
import type { PgDatabase, Queryable } from '@saga/postgres';
import { newEnvelope, toTopic } from '../envelope';
import { InMemoryBroker } from '../in-memory/in-memory.broker';
import { OutboxRelay } from '../outbox/outbox.relay';
import type { IncomingMessage, OutgoingMessage } from '../ports';
import { eventually } from '@saga/testing';
import { createTestDatabase, testLogger } from '../testing/test-support';
import { DLQ_HEADERS } from './dead-letter';
import { perMessage } from './per-message.handler';
import { startTransactionalConsumer } from './transactional.consumer';

// Transactional consumer on real PostgreSQL with the in-process broker (the Kafka run is in
// kafka/kafka.int-spec.ts).
const EFFECTS_SQL = `CREATE TABLE effect_log (id bigserial PRIMARY KEY, message_id uuid NOT NULL, key text NOT NULL, seq int NOT NULL)`;

function cmd(key: string, seq: number): Envelope {
  return newEnvelope('OrderStatusChanged', { orderId: key, customerId: 'c', status: String(seq), statusInfo: null }, { sagaId: key });
}

/** Records one effect row per handled message and replies on `out`. */
async function effect(tx: Queryable, m: IncomingMessage): Promise<OutgoingMessage[]> {
  const p = MESSAGE_SCHEMAS.OrderStatusChanged.parse(m.envelope.payload);
  await tx.query('INSERT INTO effect_log (message_id, key, seq) VALUES ($1, $2, $3)', [m.envelope.id, m.key, Number(p.status)]);
  return [toTopic('out', newEnvelope('OrderPlaced', { orderId: p.orderId }, { sagaId: m.key, causationId: m.envelope.id }))];
}

describe('startTransactionalConsumer (PostgreSQL + in-memory broker)', () => {
  let db: PgDatabase;
  let drop: () => Promise<void>;
  const logger = testLogger();

  before(async () => {
    ({ db, drop } = await createTestDatabase(EFFECTS_SQL));
  });
  after(async () => {
    await drop();
  });

  async function rig(
    groupId: string,
    handle: (tx: Queryable, m: IncomingMessage, c: unknown) => Promise<readonly OutgoingMessage[]>,
    extra: { prepare?: (ms: readonly IncomingMessage[]) => Promise<unknown>; accepts?: (m: IncomingMessage) => boolean } = {},
  ) {
    const broker = new InMemoryBroker({ partitions: 4 });
    const relay = new OutboxRelay({ db, producer: broker.producer(), logger, pollIntervalMs: 50 });
    relay.start();
    const sub = await startTransactionalConsumer<unknown>({
      broker,
      db,
      relay,
      groupId,
      topics: ['in'],
      logger,
      handle: perMessage(handle),
      retryInitialDelayMs: 5,
      ...extra,
    });
    await sub.ready;
    return {
      broker,
      send: (ms: OutgoingMessage[]) => broker.producer().send(ms),
      stop: async () => {
        await sub.close();
        await relay.stop();
        await broker.close();
      },
    };
  }

  async function effectsOf(ids: string[]): Promise<Map<string, number>> {
    const { rows } = await db.query<{ message_id: string; n: number }>(
      'SELECT message_id, count(*)::int AS n FROM effect_log WHERE message_id = ANY($1::uuid[]) GROUP BY message_id',
      [ids],
    );
    return new Map(rows.map((r) => [r.message_id, r.n]));
  }

  it('applies every message once, keeps per-key order, drops duplicates and publishes the replies', async () => {
    const r = await rig('exactly-once', effect);
    const envs: Envelope[] = [];
    for (let i = 0; i < 300; i++) envs.push(cmd(`k${i % 17}`, Math.floor(i / 17)));
    await r.send(envs.slice(0, 150).map((e) => toTopic('in', e)));
    // The same message ids again (a producer retry / replay), mixed with new ones.
    await r.send([...envs.slice(100, 150), ...envs.slice(150)].map((e) => toTopic('in', e)));
    await r.send([toTopic('in', envs[0]), toTopic('in', envs[0])]);
    const ids = envs.map((e) => e.id);
    await eventually(async () => assert.equal((await effectsOf(ids)).size, 300));
    await eventually(() => assert.equal(r.broker.messages('out').length, 300));
    const effects = await effectsOf(ids);
    assert.ok([...effects.values()].every((n) => n === 1), 'no double effect');
    const { rows } = await db.query<{ key: string; seqs: number[] }>(
      'SELECT key, array_agg(seq ORDER BY id) AS seqs FROM effect_log WHERE message_id = ANY($1::uuid[]) GROUP BY key',
      [ids],
    );
    for (const row of rows) assert.deepEqual(row.seqs, [...row.seqs].sort((a, b) => a - b), `order of ${row.key}`);
    const causes = new Set(r.broker.messages('out').map((m) => m.envelope.causationId));
    assert.equal(causes.size, 300);
    await r.stop();
  });

  it('acknowledges messages it does not accept without handling them or writing an inbox row', async () => {
    const r = await rig('accepts', effect, { accepts: (m) => Number((m.envelope.payload as { status: string }).status) % 2 === 0 });
    const envs = Array.from({ length: 20 }, (_, i) => cmd('acc', i));
    await r.send(envs.map((e) => toTopic('in', e)));
    const even = envs.filter((_, i) => i % 2 === 0).map((e) => e.id);
    await eventually(async () => assert.equal((await effectsOf(even)).size, 10));
    await eventually(() => assert.equal(r.broker.messages('out').filter((m) => even.includes(m.envelope.causationId!)).length, 10));
    const odd = envs.filter((_, i) => i % 2 === 1).map((e) => e.id);
    assert.equal((await effectsOf(odd)).size, 0, 'no effect for a message not accepted');
    const inbox = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM inbox WHERE message_id = ANY($1::uuid[])', [odd]);
    assert.equal(inbox.rows[0]!.n, 0, 'no inbox row for a message not accepted');
    await r.stop();
  });

  it('sends a malformed message to the DLQ at once and goes on with the next ones', async () => {
    let calls = 0;
    const r = await rig('malformed', async (tx, m) => {
      calls++;
      return effect(tx, m);
    });
    const good1 = cmd('m', 0);
    const bad = { ...cmd('m', 1), id: 'not-a-uuid' };
    const noSaga = { ...cmd('m', 2), sagaId: undefined } as unknown as Envelope;
    const good2 = cmd('m', 3);
    await r.send([good1, bad, noSaga, good2].map((e) => ({ topic: 'in', key: 'm', envelope: e })));
    await eventually(async () => assert.equal((await effectsOf([good1.id, good2.id])).size, 2));
    await eventually(() => assert.equal(r.broker.messages('in.dlq').length, 2));
    const dead = r.broker.messages('in.dlq');
    assert.equal(dead[0].headers?.[DLQ_HEADERS.reason], 'malformed');
    assert.match(dead[0].headers?.[DLQ_HEADERS.error] ?? '', /message-id/);
    assert.equal(dead[0].headers?.[DLQ_HEADERS.originalTopic], 'in');
    assert.equal(dead[0].headers?.[DLQ_HEADERS.originalOffset], '1'); // second record of a fresh partition
    assert.equal(dead[0].headers?.[DLQ_HEADERS.consumerGroup], 'malformed');
    assert.match(dead[1].headers?.[DLQ_HEADERS.error] ?? '', /saga-id/);
    assert.equal(calls, 2, 'the handler never saw the malformed messages');
    await r.stop();
  });

  it('retries a transient failure and succeeds without a dead letter', async () => {
    let failures = 3;
    let calls = 0;
    const r = await rig('transient', async (tx, m) => {
      calls++;
      if (failures > 0) {
        failures--;
        throw new Error('deadlock detected (simulated)');
      }
      return effect(tx, m);
    });
    const envs = [cmd('t', 0), cmd('t', 1), cmd('t', 2)];
    await r.send(envs.map((e) => toTopic('in', e)));
    await eventually(async () => assert.equal((await effectsOf(envs.map((e) => e.id))).size, 3));
    assert.equal(failures, 0);
    assert.equal(calls, 6, 'three failed tries of the batch, then its three messages');
    assert.equal(r.broker.messages('in.dlq').length, 0);
    await r.stop();
  });

  it('treats a ZodError from the handler as poison: no retries, DLQ, recorded in the inbox', async () => {
    const attempts = new Map<string, number>();
    const r = await rig('poison', async (tx, m) => {
      attempts.set(m.envelope.id, (attempts.get(m.envelope.id) ?? 0) + 1);
      MESSAGE_SCHEMAS.OrderStatusChanged.parse(m.envelope.payload);
      return effect(tx, m);
    });
    const good = cmd('p', 0);
    const poison = { ...cmd('p', 1), payload: { orderId: 'p' } };
    const after_ = cmd('p', 2);
    await r.send([good, poison, after_].map((e) => toTopic('in', e)));
    await eventually(async () => assert.equal((await effectsOf([good.id, after_.id])).size, 2));
    await eventually(() => assert.equal(r.broker.messages('in.dlq').length, 1));
    const dead = r.broker.messages('in.dlq')[0];
    assert.equal(dead.envelope.id, poison.id);
    assert.equal(dead.headers?.[DLQ_HEADERS.reason], 'poison');
    assert.equal(dead.headers?.[DLQ_HEADERS.errorName], 'ZodError');
    assert.match(dead.headers?.[DLQ_HEADERS.error] ?? '', /customerId/);
    assert.ok((attempts.get(poison.id) ?? 0) <= 2, 'once in the batch, once alone');
    const inbox = await db.query('SELECT 1 FROM inbox WHERE message_id = $1', [poison.id]);
    assert.equal(inbox.rowCount, 1);
    // Redelivered: skipped by the inbox, not dead-lettered twice.
    await r.send([toTopic('in', poison), toTopic('in', cmd('p', 3))]);
    await eventually(async () => assert.equal((await db.query("SELECT 1 FROM effect_log WHERE key = 'p'")).rowCount, 3));
    assert.equal(r.broker.messages('in.dlq').length, 1);
    await r.stop();
  });

  it('isolates a message that keeps failing: the others are handled, it is dead-lettered', async () => {
    const r = await rig('isolate', async (tx, m) => {
      if ((m.envelope.payload as { status: string }).status === '13') throw new TypeError('cannot read x of undefined');
      return effect(tx, m);
    });
    const envs = Array.from({ length: 30 }, (_, i) => cmd(`i${i % 3}`, i));
    await r.send(envs.map((e) => toTopic('in', e)));
    await eventually(() => assert.equal(r.broker.messages('in.dlq').length, 1), { timeoutMs: 20_000 });
    await eventually(async () => assert.equal((await effectsOf(envs.map((e) => e.id))).size, 29));
    const dead = r.broker.messages('in.dlq')[0];
    assert.equal(dead.envelope.id, envs[13].id);
    assert.equal(dead.headers?.[DLQ_HEADERS.reason], 'failed');
    assert.equal(dead.headers?.[DLQ_HEADERS.error], 'cannot read x of undefined');
    assert.equal(dead.headers?.[DLQ_HEADERS.errorName], 'TypeError');
    await r.stop();
  });

  it('runs prepare outside the transaction, only for messages the inbox does not know, and passes its result', async () => {
    const prepared: string[][] = [];
    const contexts: unknown[] = [];
    const r = await rig(
      'prepare',
      async (tx, m, c) => {
        contexts.push(c);
        return effect(tx, m);
      },
      {
        prepare: async (ms) => {
          // A query on the pool while no transaction of ours holds a connection.
          await db.query('SELECT 1');
          prepared.push(ms.map((m) => m.envelope.id));
          return { n: ms.length };
        },
      },
    );
    const first = cmd('q', 0);
    await r.send([toTopic('in', first)]);
    await eventually(async () => assert.equal((await effectsOf([first.id])).size, 1));
    const second = cmd('q', 1);
    await r.send([toTopic('in', first), toTopic('in', second)]);
    await eventually(async () => assert.equal((await effectsOf([second.id])).size, 1));
    assert.deepEqual(prepared, [[first.id], [second.id]]);
    assert.deepEqual(contexts, [{ n: 1 }, { n: 1 }]);
    await r.stop();
  });
});
