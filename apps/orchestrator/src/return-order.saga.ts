import { TOPICS, type PayloadOf } from '@saga/contracts';
import { defineSaga, type SagaDefinition } from '@saga/saga';
import { DEFAULT_PLACE_ORDER_TIMINGS, errorCodeOf, paymentIdOf, sagaPolicies, type ContractMessages, type PlaceOrderTimings } from './place-order.saga';

/** Saga type name stored with each instance. */
export const RETURN_ORDER = 'ReturnOrder';

/** Saga data: what OrderReturnRequested carried plus the payment id to refund. */
export interface ReturnOrderData {
  /** The saga id (an order whose return failed may be returned again, by another saga). */
  returnId: string;
  orderId: string;
  customerId: string;
  items: { productId: string; quantity: number; unitPriceCents: number }[];
  amountCents: number;
  currency: string;
  /** The order's payment (deterministic per order, as the place-order saga named it). */
  paymentId: string;
}

/** Saga data from the event that starts the saga. */
export function returnOrderData(e: PayloadOf<'OrderReturnRequested'>): ReturnOrderData {
  return {
    returnId: e.returnId,
    orderId: e.orderId,
    customerId: e.customerId,
    items: e.items.map((i) => ({ productId: i.productId, quantity: i.quantity, unitPriceCents: i.unitPriceCents })),
    amountCents: e.amountCents,
    currency: e.currency,
    paymentId: paymentIdOf(e.orderId),
  };
}


/**
 * The return saga (docs/architecture.md, ADR 12): a PLACED order goes back.
 *
 * 1. markReturnPending (compensable, done at start: the order service makes the order
 *    RETURN_PENDING in the transaction that writes OrderReturnRequested); compensation
 *    CancelOrderReturn puts it back to PLACED with the failure as status info.
 * 2. issueRefund — the pivot. It moves the money back to the customer, and a refund cannot be taken
 *    back: once the payment service has issued it (or owes it: a wallet that may have taken it is
 *    retried until it answers), the saga only goes forward. Refused (no completed payment, or the
 *    wallet certainly did not take it after its bounded retries: WALLET_UNAVAILABLE), it compensates.
 * 3. returnStock (retriable): the inventory puts the units back (idempotent per order).
 * 4. completeReturn (retriable): the order becomes RETURNED.
 *
 * The stock goes back after the refund, not before it: put back first and a refused refund would
 * need to take it off the shelf again, which may no longer be possible (sold to someone else).
 *
 * @example
 * const engine = new SagaEngine({ store, definitions: [placeOrderSaga(t), returnOrderSaga(t)], clock, ids });
 */
export function returnOrderSaga(t: PlaceOrderTimings = DEFAULT_PLACE_ORDER_TIMINGS): SagaDefinition<ReturnOrderData, ContractMessages> {
  const { options, untilSuccess } = sagaPolicies(t);
  return defineSaga<ReturnOrderData, ContractMessages>(RETURN_ORDER, options)
    .compensable('markReturnPending', {
      invoke: (d) => ({ participant: TOPICS.orderCommands, type: 'MarkOrderReturnPending', payload: { orderId: d.orderId } }),
      onReply: { OrderReturnPendingMarked: 'success', OrderReturnPendingRejected: 'failure' },
      compensate: {
        command: (d, failure) => ({
          participant: TOPICS.orderCommands,
          type: 'CancelOrderReturn',
          payload: { orderId: d.orderId, code: errorCodeOf(failure), reason: failure.reason },
        }),
        onReply: 'OrderReturnCanceled',
      },
      compensateOnTimeout: true,
      doneAtStart: true,
    })
    .pivot('issueRefund', {
      invoke: (d) => ({ participant: TOPICS.paymentCommands, type: 'IssueRefund', payload: { orderId: d.orderId, paymentId: d.paymentId } }),
      onReply: { RefundIssued: 'success', RefundDeclined: 'failure' },
      // Longer than the payment service's bounded wallet retries, like the payment step.
      timeoutMs: t.paymentTimeoutMs,
    })
    .retriable('returnStock', {
      invoke: (d) => ({ participant: TOPICS.inventoryCommands, type: 'ReturnStock', payload: { orderId: d.orderId } }),
      onReply: { StockReturned: 'success' },
      retry: untilSuccess,
    })
    .retriable('completeReturn', {
      invoke: (d) => ({ participant: TOPICS.orderCommands, type: 'CompleteOrderReturn', payload: { orderId: d.orderId } }),
      onReply: { OrderReturned: 'success' },
      retry: untilSuccess,
    })
    .build();
}
