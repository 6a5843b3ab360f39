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

  // order.commands and their replies
  MarkOrderPaymentPending: OrderRef,
  OrderPaymentPendingMarked: OrderRef,
  OrderPaymentPendingRejected: OrderRef.extend(Failure.shape),
  FailOrder: OrderRef.extend(Failure.shape),
  OrderFailed: OrderRef,
  ConfirmOrder: OrderRef,
  OrderPlaced: OrderRef,

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
