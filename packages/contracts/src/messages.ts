import { z } from 'zod';
import { ErrorCode } from './errors';

/**
 * Every command, reply and event payload, by message type. Commands are imperative, replies and
 * events past tense. Amounts are integer cents.
 *
 * @example
 * const payload = MESSAGE_SCHEMAS.ReserveStock.parse(envelope.payload);
 */
const OrderItemLine = z.object({
  productId: z.string().min(1),
  quantity: z.number().int().positive(),
  unitPriceCents: z.number().int().nonnegative(),
});

const Failure = z.object({ code: z.enum(ErrorCode), reason: z.string() });

const OrderRef = z.object({ orderId: z.string().min(1) });

export const MESSAGE_SCHEMAS = {
  // order.events: the order service asks for the saga to run
  OrderPaymentRequested: z.object({
    orderId: z.string().min(1),
    customerId: z.string().min(1),
    items: z.array(OrderItemLine).min(1),
    amountCents: z.number().int().nonnegative(),
    currency: z.string().length(3),
  }),
  OrderStatusChanged: z.object({
    orderId: z.string().min(1),
    customerId: z.string().min(1),
    status: z.string(),
    statusInfo: z.string().nullable(),
  }),
  // order.events: the order service asks for the return saga to run (the order is RETURN_PENDING in
  // the same transaction). `returnId` is the saga id: an order whose return failed may be returned again.
  OrderReturnRequested: z.object({
    orderId: z.string().min(1),
    returnId: z.string().min(1),
    customerId: z.string().min(1),
    items: z.array(OrderItemLine).min(1),
    amountCents: z.number().int().nonnegative(),
    currency: z.string().length(3),
  }),

  // order.commands and their replies
  MarkOrderPaymentPending: OrderRef,
  OrderPaymentPendingMarked: OrderRef,
  OrderPaymentPendingRejected: OrderRef.extend(Failure.shape),
  FailOrder: OrderRef.extend(Failure.shape),
  OrderFailed: OrderRef,
  ConfirmOrder: OrderRef,
  OrderConfirmed: OrderRef,
  /**
   * @deprecated the former reply to ConfirmOrder (a past tense that did not pair with the command);
   * the order service answers OrderConfirmed. Still accepted from older order services: remove once
   * none is left (docs/adr/0012-return-order-saga.md).
   */
  OrderPlaced: OrderRef,
  // the return saga's order commands and their replies
  MarkOrderReturnPending: OrderRef,
  OrderReturnPendingMarked: OrderRef,
  OrderReturnPendingRejected: OrderRef.extend(Failure.shape),
  /** Compensation of a failed return: RETURN_PENDING → PLACED, with the failure as status info. */
  CancelOrderReturn: OrderRef.extend(Failure.shape),
  OrderReturnCanceled: OrderRef,
  CompleteOrderReturn: OrderRef,
  OrderReturned: OrderRef,

  // inventory.commands and their replies
  ReserveStock: OrderRef.extend({ items: z.array(OrderItemLine.pick({ productId: true, quantity: true })).min(1) }),
  StockReserved: OrderRef,
  StockReservationFailed: OrderRef.extend(Failure.shape),
  ReleaseStock: OrderRef,
  StockReleased: OrderRef,
  CommitStock: OrderRef,
  StockCommitted: OrderRef,
  // place-order saga v2: a read-only check before the reservation (nothing held, nothing to undo)
  CheckStock: OrderRef.extend({ items: z.array(OrderItemLine.pick({ productId: true, quantity: true })).min(1) }),
  StockAvailable: OrderRef,
  StockUnavailable: OrderRef.extend(Failure.shape),
  // return saga: the order's units go back on the shelf (sold, or still reserved, → available)
  ReturnStock: OrderRef,
  StockReturned: OrderRef,

  // payment.commands and their replies; PaymentCompleted / PaymentFailed / PaymentRefunded are
  // also published on payment.events
  ProcessPayment: OrderRef.extend({
    paymentId: z.string().min(1),
    customerId: z.string().min(1),
    amountCents: z.number().int().nonnegative(),
    currency: z.string().length(3),
  }),
  // `attempts`: wallet calls it took (shown in the saga history when retries happened).
  PaymentCompleted: OrderRef.extend({ paymentId: z.string().min(1), attempts: z.number().int().positive().optional() }),
  PaymentFailed: OrderRef.extend({ paymentId: z.string().min(1), attempts: z.number().int().positive().optional() }).extend(
    Failure.shape,
  ),
  RefundPayment: OrderRef.extend({ paymentId: z.string().min(1) }),
  PaymentRefunded: OrderRef.extend({ paymentId: z.string().min(1) }),
  // return saga: refund a COMPLETED payment (a business refund, unlike RefundPayment's
  // reverse-if-applied compensation: no completed payment is a refusal). RefundIssued is also
  // published on payment.events.
  IssueRefund: OrderRef.extend({ paymentId: z.string().min(1) }),
  /**
   * `pending`: the wallet could not confirm it (it may have taken it): the refund is owed, recorded
   * with a PENDING ledger row, and the payment service retries the wallet until it has it.
   */
  RefundIssued: OrderRef.extend({ paymentId: z.string().min(1), pending: z.string().optional() }),
  RefundDeclined: OrderRef.extend({ paymentId: z.string().min(1) }).extend(Failure.shape),

  // inventory.events: a product of the catalog, as the order service keeps a copy of it (key: the product id)
  ProductCataloged: z.object({
    productId: z.string().min(1),
    name: z.string().min(1),
    priceCents: z.number().int().nonnegative(),
  }),
} as const;

export type MessageType = keyof typeof MESSAGE_SCHEMAS;
export type PayloadOf<T extends MessageType> = z.infer<(typeof MESSAGE_SCHEMAS)[T]>;

/** Current schema version of every payload above. */
export const SCHEMA_VERSION = 1;

/** Parses a payload of a known type; throws a ZodError on a malformed one. */
export function parsePayload<T extends MessageType>(type: T, payload: unknown): PayloadOf<T> {
  return MESSAGE_SCHEMAS[type].parse(payload) as PayloadOf<T>;
}

export function isMessageType(type: string): type is MessageType {
  return Object.hasOwn(MESSAGE_SCHEMAS, type);
}
