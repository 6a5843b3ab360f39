import type { Queryable } from '@saga/postgres';
import { envelopeHeaders } from '../envelope';
import { INSERT_OUTBOX_SQL } from '../messaging.sql';
import type { OutgoingMessage } from '../ports';

/** Outbox rows written by one call: their ids, in the order of their messages. */
export interface EnqueuedOutbox {
  ids: number[];
  messages: readonly OutgoingMessage[];
}

const NOTHING_ENQUEUED: EnqueuedOutbox = { ids: [], messages: [] };

/**
 * Writes messages to the outbox inside the caller's transaction, so they are published if and only
 * if the transaction commits. One INSERT per call whatever the batch size (array parameters, so the
 * statement text and plan never change). Returns the rows' ids. `alsoDelete`: ids of rows already
 * published, deleted by the same statement (the relay's, see `OutboxRelay.transaction`). Inside `relay.transaction()`
 * its `enqueue` calls this and the rows go out as the transaction commits; otherwise call
 * `relay.wake()` after the commit.
 *
 * @example
 * await db.transaction(async (tx) => {
 *   await tx.query('UPDATE orders SET status = $1 WHERE id = $2', ['CANCELED', id]);
 *   await enqueueOutbox(tx, [toTopic(TOPICS.orderEvents, env)]);
 * });
 * relay.wake();
 */
export async function enqueueOutbox(tx: Queryable, messages: readonly OutgoingMessage[], alsoDelete: readonly number[] = []): Promise<EnqueuedOutbox> {
  const n = messages.length;
  if (n === 0) return NOTHING_ENQUEUED;
  const topics = new Array<string>(n);
  const keys = new Array<string>(n);
  const headers = new Array<string>(n);
  const payloads = new Array<string | null>(n);
  for (let i = 0; i < n; i++) {
    const m = messages[i];
    topics[i] = m.topic;
    keys[i] = m.key;
    const h = envelopeHeaders(m.envelope);
    if (m.headers) Object.assign(h, m.headers);
    headers[i] = JSON.stringify(h);
    payloads[i] = m.envelope.payload === undefined ? null : JSON.stringify(m.envelope.payload);
  }
  // Ids follow the caller's order (WITH ORDINALITY ... ORDER BY), which the relay publishes in;
  // RETURNING has no order of its own, so sorting them gives each message its id.
  const { rows } = await tx.query<{ id: string | number }>(INSERT_OUTBOX_SQL, [topics, keys, headers, payloads, alsoDelete]);
  const ids = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
  return { ids, messages };
}
