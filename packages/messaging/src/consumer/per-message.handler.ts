import type { Queryable } from '@saga/postgres';
import type { IncomingMessage, OutgoingMessage, TransactionalBatchHandler } from '../ports';

/**
 * Adapts a one-message handler to a batch handler: the batch's messages are handled one after the
 * other, in order, in the same transaction, and their outgoing messages concatenated.
 *
 * @example
 * handle: perMessage(async (tx, m) => {
 *   const p = parsePayload('ReserveStock', m.envelope.payload);
 *   ...
 *   return [reply(m.envelope, 'StockReserved', { orderId: p.orderId })];
 * })
 */
export function perMessage<C>(
  fn: (tx: Queryable, m: IncomingMessage, c: C) => Promise<readonly OutgoingMessage[]>,
): TransactionalBatchHandler<C> {
  return async (tx, messages, c) => {
    const out: OutgoingMessage[] = [];
    for (const m of messages) {
      const produced = await fn(tx, m, c);
      for (const o of produced) out.push(o);
    }
    return out;
  };
}
