import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENVELOPE_HEADERS, EnvelopeSchema, SCHEMA_VERSION, TOPICS } from '@saga/contracts';
import { envelopeFromHeaders, envelopeHeaders, envelopeProblem, isEnvelopeHeader, newEnvelope, reply, toTopic } from './envelope';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newEnvelope', () => {
  it('fills id (UUIDv7), version, time and defaults the correlation id to the saga id', () => {
    const env = newEnvelope('ConfirmOrder', { orderId: 'o-1' }, { sagaId: 'o-1' });
    assert.match(env.id, UUID_V7);
    assert.equal(env.type, 'ConfirmOrder');
    assert.equal(env.schemaVersion, SCHEMA_VERSION);
    assert.equal(env.sagaId, 'o-1');
    assert.equal(env.correlationId, 'o-1');
    assert.equal(env.causationId, null);
    assert.equal('traceparent' in env, false);
    assert.ok(Math.abs(Date.parse(env.occurredAt) - Date.now()) < 5_000);
    assert.deepEqual(env.payload, { orderId: 'o-1' });
    EnvelopeSchema.parse(env);
  });

  it('keeps the given correlation, causation and trace', () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const env = newEnvelope('ConfirmOrder', { orderId: 'o' }, { sagaId: 'o', correlationId: 'c', causationId: 'x', traceparent: tp });
    assert.equal(env.correlationId, 'c');
    assert.equal(env.causationId, 'x');
    assert.equal(env.traceparent, tp);
  });

  it('ids are unique and sort by creation', () => {
    const ids = Array.from({ length: 200 }, () => newEnvelope('ConfirmOrder', { orderId: 'o' }, { sagaId: 'o' }).id);
    assert.equal(new Set(ids).size, 200);
    assert.deepEqual([...ids].sort(), ids);
  });

  it('rejects a payload that does not match its schema with a ZodError', () => {
    assert.throws(
      () => newEnvelope('ReserveStock', { orderId: 'o', items: [] } as never, { sagaId: 'o' }),
      (err: Error) => err.name === 'ZodError',
    );
  });
});

describe('toTopic and reply', () => {
  it('toTopic keys the message by saga id', () => {
    const env = newEnvelope('ConfirmOrder', { orderId: 'o-9' }, { sagaId: 'saga-9' });
    assert.deepEqual(toTopic(TOPICS.orderCommands, env), { topic: 'order.commands', key: 'saga-9', envelope: env });
  });

  it('reply goes to orchestrator.replies with the command as its cause', () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const cmd = newEnvelope('ReserveStock', { orderId: 'o', items: [{ productId: 'P001', quantity: 1 }] }, { sagaId: 's', correlationId: 'c', traceparent: tp });
    const r = reply(cmd, 'StockReserved', { orderId: 'o' });
    assert.equal(r.topic, TOPICS.orchestratorReplies);
    assert.equal(r.key, 's');
    assert.equal(r.envelope.type, 'StockReserved');
    assert.equal(r.envelope.sagaId, 's');
    assert.equal(r.envelope.correlationId, 'c');
    assert.equal(r.envelope.causationId, cmd.id);
    assert.equal(r.envelope.traceparent, tp);
    assert.notEqual(r.envelope.id, cmd.id);
  });
});

describe('headers', () => {
  it('round-trips the envelope through headers', () => {
    const env = newEnvelope('StockReserved', { orderId: 'o' }, { sagaId: 's', causationId: 'c1', traceparent: 'tp' });
    const h = envelopeHeaders(env);
    assert.equal(h[ENVELOPE_HEADERS.id], env.id);
    assert.equal(h[ENVELOPE_HEADERS.schemaVersion], '1');
    const back = envelopeFromHeaders((n) => h[n], env.payload);
    assert.deepEqual(back, env);
    assert.equal(envelopeProblem(back), null);
  });

  it('leaves out a null causation id and an absent traceparent, and reads them back the same', () => {
    const env = newEnvelope('StockReserved', { orderId: 'o' }, { sagaId: 's' });
    const h = envelopeHeaders(env);
    assert.equal(ENVELOPE_HEADERS.causationId in h, false);
    assert.equal(ENVELOPE_HEADERS.traceparent in h, false);
    assert.deepEqual(envelopeFromHeaders((n) => h[n], env.payload), env);
  });

  it('encodes a partial envelope without inventing values', () => {
    const h = envelopeHeaders({ type: 'X', schemaVersion: Number.NaN } as never);
    assert.deepEqual(h, { [ENVELOPE_HEADERS.type]: 'X' });
  });

  it('knows which headers belong to the envelope', () => {
    assert.equal(isEnvelopeHeader('message-id'), true);
    assert.equal(isEnvelopeHeader('dlq-error'), false);
  });
});

describe('envelopeProblem', () => {
  it('names the headers that are missing or invalid', () => {
    const env = newEnvelope('StockReserved', { orderId: 'o' }, { sagaId: 's' });
    const h = envelopeHeaders(env);
    delete h[ENVELOPE_HEADERS.sagaId];
    h[ENVELOPE_HEADERS.id] = 'not-a-uuid';
    const problem = envelopeProblem(envelopeFromHeaders((n) => h[n], env.payload));
    assert.ok(problem);
    assert.match(problem, /message-id: /);
    assert.match(problem, /saga-id: /);
    assert.doesNotMatch(problem, /message-type/);
  });

  it('rejects a non-numeric schema version', () => {
    const env = newEnvelope('StockReserved', { orderId: 'o' }, { sagaId: 's' });
    const h: Record<string, string> = { ...envelopeHeaders(env), [ENVELOPE_HEADERS.schemaVersion]: 'v1' };
    assert.match(envelopeProblem(envelopeFromHeaders((n) => h[n], env.payload)) ?? '', /schema-version/);
  });
});
