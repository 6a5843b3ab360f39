import type { Queryable } from '@saga/postgres';
import { envelopeHeaders } from '../envelope';
import { INSERT_OUTBOX_SQL } from '../messaging.sql';
import type { OutgoingMessage } from '../ports';

/**
 * Writes messages to the outbox inside the caller's transaction, so they are published if and only
 * if the transaction commits. One INSERT per call whatever the batch size (four array parameters,
 * so the statement text and plan never change). Call `relay.wake()` after the commit.
 *
 * @example
 * await db.transaction(async (tx) => {
 *   await tx.query('UPDATE orders SET status = $1 WHERE id = $2', ['PLACED', id]);
 *   await enqueueOutbox(tx, [toTopic(TOPICS.orderEvents, env)]);
 * });
 * relay.wake();
 */
export async function enqueueOutbox(tx: Queryable, messages: readonly OutgoingMessage[]): Promise<void> {
  const n = messages.length;
  if (n === 0) return;
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
  // Ids follow the caller's order (WITH ORDINALITY ... ORDER BY), which the relay publishes in.
  await tx.query(INSERT_OUTBOX_SQL, [topics, keys, headers, payloads]);
}
