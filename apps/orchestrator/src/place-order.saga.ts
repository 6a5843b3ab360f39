import { ErrorCode, TOPICS, type MessageType, type PayloadOf } from '@saga/contracts';
import { defineSaga, type SagaDefinition, type SagaFailure } from '@saga/saga';

/** Saga type name stored with each instance. */
export const PLACE_ORDER = 'PlaceOrder';

/** Every contract message, typed for the saga DSL. */
export type ContractMessages = { [K in MessageType]: PayloadOf<K> };

/** Saga data: what OrderPaymentRequested carried (catalog prices, in cents) plus the payment id. */
export interface PlaceOrderData {
  orderId: string;
  customerId: string;
  items: { productId: string; quantity: number; unitPriceCents: number }[];
  amountCents: number;
  currency: string;
  /** Deterministic per order, so a re-sent ProcessPayment and the refund name the same payment. */
  paymentId: string;
}

export interface PlaceOrderTimings {
  /** Reply deadline of every step but the payment. */
  stepTimeoutMs: number;
  /** Payment deadline: must exceed the payment service's bounded wallet retries (~3 s). */
  paymentTimeoutMs: number;
  /** Sends of a pre-pivot command before the step fails with STEP_TIMEOUT. */
  maxAttempts: number;
  /** First re-send delay; doubles per attempt. */
  backoffMs: number;
  /** Sends of a compensation before the saga becomes COMPENSATION_FAILED. */
  compensationMaxAttempts: number;
}

export const DEFAULT_PLACE_ORDER_TIMINGS: PlaceOrderTimings = {
  stepTimeoutMs: 15_000,
  paymentTimeoutMs: 20_000,
  maxAttempts: 3,
  backoffMs: 500,
  compensationMaxAttempts: 5,
};

/** The payment id of an order's payment. @example paymentIdOf('o-1') === 'pay_o-1' */
export function paymentIdOf(orderId: string): string {
  return `pay_${orderId}`;
}

/** Saga data from the event that starts the saga. */
export function placeOrderData(e: PayloadOf<'OrderPaymentRequested'>): PlaceOrderData {
  return {
    orderId: e.orderId,
    customerId: e.customerId,
    items: e.items.map((i) => ({ productId: i.productId, quantity: i.quantity, unitPriceCents: i.unitPriceCents })),
    amountCents: e.amountCents,
    currency: e.currency,
    paymentId: paymentIdOf(e.orderId),
  };
}

const ERROR_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/**
 * The ErrorCode a compensation command carries (FailOrder, CancelOrderReturn); the engine's failure
 * code is a plain string (STEP_TIMEOUT is one), anything unknown becomes INTERNAL.
 */
export function errorCodeOf(failure: SagaFailure): ErrorCode {
  return ERROR_CODES.has(failure.code) ? (failure.code as ErrorCode) : ErrorCode.Internal;
}

/**
 * The retry policies both sagas of the orchestrator take from its timings: the saga's defaults
 * (step timeout, bounded re-sends, compensation re-sends) and the re-send of retriable steps.
 */
export function sagaPolicies(t: PlaceOrderTimings) {
  return {
    options: {
      timeoutMs: t.stepTimeoutMs,
      retry: { maxAttempts: t.maxAttempts, backoffMs: t.backoffMs },
      compensationRetry: { maxAttempts: t.compensationMaxAttempts, backoffMs: t.backoffMs, maxBackoffMs: 30_000 },
    },
    untilSuccess: { maxAttempts: 1, backoffMs: t.backoffMs, maxBackoffMs: 30_000 },
  };
}

/** Every version of the place-order saga this build ships (see {@link placeOrderSaga}). */
export const PLACE_ORDER_VERSIONS = [1, 2] as const;
export type PlaceOrderVersion = (typeof PLACE_ORDER_VERSIONS)[number];

/**
 * The place-order saga of DESIGN §2: mark the order PAYMENT_PENDING (compensable, done by the order
 * service as the saga starts), reserve stock (compensable), pay (the pivot), then confirm the order
 * and commit the stock (retriable: retried until they succeed). A failure compensates in reverse:
 * release the stock, fail the order with the failing step's code and reason. Steps whose outcome is
 * unknown after a timeout undo themselves too (the participants' compensations are
 * reverse-if-applied): the payment is then refunded, the only time a pivot is undone.
 *
 * Version 2 adds one step before the reservation, `checkStock`: a read-only question to the
 * inventory (compensable with nothing to undo), so an order for stock that is gone fails without
 * taking the stock rows' locks. Version 1 stays the default (one round trip less).
 *
 * @example
 * const engine = new SagaEngine({ store, definitions: [placeOrderSaga(t, 1), placeOrderSaga(t, 2)], clock, ids });
 */
export function placeOrderSaga(
  t: PlaceOrderTimings = DEFAULT_PLACE_ORDER_TIMINGS,
  version: PlaceOrderVersion = 1,
): SagaDefinition<PlaceOrderData, ContractMessages> {
  const { options, untilSuccess } = sagaPolicies(t);
  const saga = defineSaga<PlaceOrderData, ContractMessages>(PLACE_ORDER, { version, ...options }).compensable('markPaymentPending', {
    invoke: (d) => ({ participant: TOPICS.orderCommands, type: 'MarkOrderPaymentPending', payload: { orderId: d.orderId } }),
    onReply: { OrderPaymentPendingMarked: 'success', OrderPaymentPendingRejected: 'failure' },
    compensate: {
      command: (d, failure) => ({
        participant: TOPICS.orderCommands,
        type: 'FailOrder',
        payload: { orderId: d.orderId, code: errorCodeOf(failure), reason: failure.reason },
      }),
      onReply: 'OrderFailed',
    },
    compensateOnTimeout: true,
    // The order service makes the order PAYMENT_PENDING in the transaction that writes
    // OrderPaymentRequested: the saga starts with this step done, one round trip less.
    doneAtStart: true,
  });
  if (version >= 2) {
    saga.compensable('checkStock', {
      invoke: (d) => ({ participant: TOPICS.inventoryCommands, type: 'CheckStock', payload: { orderId: d.orderId, items: stockLines(d) } }),
      onReply: { StockAvailable: 'success', StockUnavailable: 'failure' },
      compensate: 'none',
    });
  }
  return saga
    .compensable('reserveStock', {
      invoke: (d) => ({ participant: TOPICS.inventoryCommands, type: 'ReserveStock', payload: { orderId: d.orderId, items: stockLines(d) } }),
      onReply: { StockReserved: 'success', StockReservationFailed: 'failure' },
      compensate: {
        command: (d) => ({ participant: TOPICS.inventoryCommands, type: 'ReleaseStock', payload: { orderId: d.orderId } }),
        onReply: 'StockReleased',
      },
      compensateOnTimeout: true,
    })
    .pivot('processPayment', {
      invoke: (d) => ({
        participant: TOPICS.paymentCommands,
        type: 'ProcessPayment',
        payload: {
          orderId: d.orderId,
          paymentId: d.paymentId,
          customerId: d.customerId,
          amountCents: d.amountCents,
          currency: d.currency,
        },
      }),
      onReply: { PaymentCompleted: 'success', PaymentFailed: 'failure' },
      // No reply after the last attempt (or an operator cancel): the payment may have been taken.
      onUnknownOutcome: {
        command: (d) => ({
          participant: TOPICS.paymentCommands,
          type: 'RefundPayment',
          payload: { orderId: d.orderId, paymentId: d.paymentId },
        }),
        onReply: 'PaymentRefunded',
      },
      timeoutMs: t.paymentTimeoutMs,
    })
    .retriable('confirmOrder', {
      invoke: (d) => ({ participant: TOPICS.orderCommands, type: 'ConfirmOrder', payload: { orderId: d.orderId } }),
      // OrderPlaced: the reply of order services before OrderConfirmed (ADR 12), still accepted.
      onReply: { OrderConfirmed: 'success', OrderPlaced: 'success' },
      retry: untilSuccess,
    })
    .retriable('commitStock', {
      invoke: (d) => ({ participant: TOPICS.inventoryCommands, type: 'CommitStock', payload: { orderId: d.orderId } }),
      onReply: { StockCommitted: 'success' },
      retry: untilSuccess,
    })
    .build();
}

function stockLines(d: PlaceOrderData): { productId: string; quantity: number }[] {
  return d.items.map((i) => ({ productId: i.productId, quantity: i.quantity }));
}
