import { ErrorCode, parsePayload, TOPICS } from '@saga/contracts';
import { reply, type IncomingMessage, type OutgoingMessage } from '@saga/messaging';
import type { Transaction } from '@saga/postgres';
import type { Logger } from 'pino';
import { upsertCatalog } from './catalog';
import { ANNOUNCED_STATUSES, type OrderStatus } from './order-status';
import { OrderRepository, type OrderRow, type StatusChange } from './order.repository';
import type { OrderService } from './order.service';

const PRE_PLACED: readonly OrderStatus[] = ['INITIATED', 'PAYMENT_PENDING', 'PAYMENT_DONE'];
const PLACED_OR_LATER: readonly OrderStatus[] = ['PLACED', 'ON_WAY', 'DELIVERED'];
/** A return may start once the order is PLACED, before the place-order saga's last step answered. */
const RETURNING_OR_RETURNED: readonly OrderStatus[] = ['RETURN_PENDING', 'RETURNED'];

/**
 * The order service's part of the saga: commands on order.commands and payment outcomes on
 * payment.events; and its copy of the catalog from inventory.events. A batch is decided in memory over its locked orders and written with a fixed
 * number of statements. Every branch is idempotent per order, so a re-sent command (new message id)
 * or a redelivery answers the same without a second effect.
 */
export class OrderCommandsHandler {
  private readonly repo = new OrderRepository();

  constructor(
    private readonly orders: OrderService,
    private readonly logger: Logger,
  ) {}

  readonly topics = [TOPICS.orderCommands, TOPICS.paymentEvents, TOPICS.inventoryEvents] as const;

  /**
   * Of payment.events only PaymentCompleted matters, of inventory.events only ProductCataloged (the
   * copy of the catalog); the other events skip the transaction.
   */
  readonly accepts = (m: IncomingMessage): boolean =>
    m.topic === TOPICS.paymentEvents ? m.envelope.type === 'PaymentCompleted' : m.topic !== TOPICS.inventoryEvents || m.envelope.type === 'ProductCataloged';

  handle = async (tx: Transaction, messages: readonly IncomingMessage[]): Promise<readonly OutgoingMessage[]> => {
    const products = messages.filter((m) => m.envelope.type === 'ProductCataloged').map((m) => parsePayload('ProductCataloged', m.envelope.payload));
    await upsertCatalog(tx, products.map((p) => ({ id: p.productId, name: p.name, priceCents: p.priceCents })));
    const work = messages.map((m) => ({ envelope: m.envelope, orderId: orderIdOf(m) }));
    const ids = [...new Set(work.map((w) => w.orderId).filter((id): id is string => id !== undefined))].sort();
    const state = ids.length > 0 ? await this.repo.lockMany(tx, ids) : new Map<string, OrderRow>();
    const changes: StatusChange[] = [];
    const out: OutgoingMessage[] = [];
    const move = (order: OrderRow, to: OrderStatus, info: { statusInfo?: string; failureCode?: string } = {}) => {
      changes.push({ orderId: order.id, status: to, ...info });
      order.status = to;
      if (info.statusInfo !== undefined) order.statusInfo = info.statusInfo;
      if (ANNOUNCED_STATUSES.includes(to)) out.push(this.orders.statusChanged(order));
    };

    for (const { envelope, orderId } of work) {
      if (orderId === undefined) continue; // other events on payment.events need nothing from the order
      const order = state.get(orderId);
      switch (envelope.type) {
        case 'MarkOrderPaymentPending': {
          if (!order) {
            out.push(reply(envelope, 'OrderPaymentPendingRejected', { orderId, code: ErrorCode.NotFound, reason: `order ${orderId} does not exist` }));
          } else if (order.status === 'CANCELED' || order.status === 'FAILED') {
            out.push(
              reply(envelope, 'OrderPaymentPendingRejected', { orderId, code: ErrorCode.OrderNotPayable, reason: `order ${orderId} is ${order.status}` }),
            );
          } else {
            if (order.status === 'INITIATED') move(order, 'PAYMENT_PENDING');
            out.push(reply(envelope, 'OrderPaymentPendingMarked', { orderId }));
          }
          break;
        }
        case 'FailOrder': {
          const { code, reason } = parsePayload('FailOrder', envelope.payload);
          if (order && PRE_PLACED.includes(order.status)) move(order, 'FAILED', { statusInfo: reason, failureCode: code });
          out.push(reply(envelope, 'OrderFailed', { orderId }));
          break;
        }
        case 'ConfirmOrder': {
          if (order?.status === 'PAYMENT_PENDING') move(order, 'PAYMENT_DONE');
          if (order?.status === 'PAYMENT_DONE') move(order, 'PLACED');
          if (order && (PLACED_OR_LATER.includes(order.status) || RETURNING_OR_RETURNED.includes(order.status))) {
            out.push(reply(envelope, 'OrderConfirmed', { orderId }));
          } else {
            // Confirmation of an order that cannot be placed: a saga bug, surfaced, not hidden.
            this.logger.error({ orderId, status: order?.status }, 'ConfirmOrder for an order that cannot be placed');
          }
          break;
        }
        case 'PaymentCompleted': {
          if (order?.status === 'PAYMENT_PENDING') move(order, 'PAYMENT_DONE');
          break;
        }
        // The return saga. Its first step is done by the order service as the saga starts
        // (OrderReturnRequested); MarkOrderReturnPending only comes from an operator retry.
        case 'MarkOrderReturnPending': {
          if (order?.status === 'RETURN_PENDING') {
            out.push(reply(envelope, 'OrderReturnPendingMarked', { orderId }));
          } else {
            const reason = order ? `order ${orderId} is ${order.status} and cannot be returned` : `order ${orderId} does not exist`;
            out.push(reply(envelope, 'OrderReturnPendingRejected', { orderId, code: order ? ErrorCode.OrderNotReturnable : ErrorCode.NotFound, reason }));
          }
          break;
        }
        case 'CancelOrderReturn': {
          const { code, reason } = parsePayload('CancelOrderReturn', envelope.payload);
          if (order?.status === 'RETURN_PENDING') move(order, 'PLACED', { statusInfo: `return failed: ${reason}`, failureCode: code });
          else if (order?.status === 'RETURNED') this.logger.error({ orderId }, 'CancelOrderReturn for a RETURNED order');
          out.push(reply(envelope, 'OrderReturnCanceled', { orderId }));
          break;
        }
        case 'CompleteOrderReturn': {
          if (order?.status === 'RETURN_PENDING') move(order, 'RETURNED', { statusInfo: 'returned: refunded and restocked' });
          if (order?.status === 'RETURNED') {
            out.push(reply(envelope, 'OrderReturned', { orderId }));
          } else {
            // Completion of a return that is not pending: a saga bug, surfaced (the step keeps retrying).
            this.logger.error({ orderId, status: order?.status }, 'CompleteOrderReturn for an order whose return is not pending');
          }
          break;
        }
      }
    }
    this.repo.applyChanges(tx, changes);
    return out;
  };
}

/** The order a message is about, validating its payload (a malformed one is poison: DLQ). */
function orderIdOf(m: IncomingMessage): string | undefined {
  const { type, payload } = m.envelope;
  switch (type) {
    case 'MarkOrderPaymentPending':
    case 'FailOrder':
    case 'ConfirmOrder':
    case 'PaymentCompleted':
    case 'MarkOrderReturnPending':
    case 'CancelOrderReturn':
    case 'CompleteOrderReturn':
      return parsePayload(type, payload).orderId;
    default:
      return undefined;
  }
}
