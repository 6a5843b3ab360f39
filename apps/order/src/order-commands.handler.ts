import { ErrorCode, parsePayload, TOPICS } from '@saga/contracts';
import { reply, type IncomingMessage, type OutgoingMessage } from '@saga/messaging';
import type { Queryable } from '@saga/postgres';
import type { Logger } from 'pino';
import { OrderRepository } from './order.repository';
import type { OrderService } from './order.service';

/**
 * The order service's part of the saga: commands on order.commands and payment outcomes on
 * payment.events. Every branch is idempotent per order, so a re-sent command (new message id) or a
 * redelivery answers the same without a second effect.
 */
export class OrderCommandsHandler {
  private readonly repo = new OrderRepository();

  constructor(
    private readonly orders: OrderService,
    private readonly logger: Logger,
  ) {}

  readonly topics = [TOPICS.orderCommands, TOPICS.paymentEvents] as const;

  handle = async (tx: Queryable, message: IncomingMessage): Promise<readonly OutgoingMessage[]> => {
    const { envelope } = message;
    switch (envelope.type) {
      case 'MarkOrderPaymentPending': {
        const { orderId } = parsePayload('MarkOrderPaymentPending', envelope.payload);
        const order = await this.repo.findForUpdate(tx, orderId);
        if (!order) {
          return [reply(envelope, 'OrderPaymentPendingRejected', { orderId, code: ErrorCode.NotFound, reason: `order ${orderId} does not exist` })];
        }
        if (order.status === 'INITIATED') {
          const row = await this.repo.transition(tx, orderId, ['INITIATED'], 'PAYMENT_PENDING');
          return [reply(envelope, 'OrderPaymentPendingMarked', { orderId }), this.orders.statusChanged(row!)];
        }
        if (order.status === 'CANCELED' || order.status === 'FAILED') {
          return [
            reply(envelope, 'OrderPaymentPendingRejected', {
              orderId,
              code: ErrorCode.OrderNotPayable,
              reason: `order ${orderId} is ${order.status}`,
            }),
          ];
        }
        return [reply(envelope, 'OrderPaymentPendingMarked', { orderId })];
      }
      case 'FailOrder': {
        const { orderId, code, reason } = parsePayload('FailOrder', envelope.payload);
        const row = await this.repo.transition(tx, orderId, ['INITIATED', 'PAYMENT_PENDING', 'PAYMENT_DONE'], 'FAILED', {
          statusInfo: reason,
          failureCode: code,
        });
        const out: OutgoingMessage[] = [reply(envelope, 'OrderFailed', { orderId })];
        if (row) out.push(this.orders.statusChanged(row));
        return out;
      }
      case 'ConfirmOrder': {
        const { orderId } = parsePayload('ConfirmOrder', envelope.payload);
        const out: OutgoingMessage[] = [];
        const paid = await this.repo.transition(tx, orderId, ['PAYMENT_PENDING'], 'PAYMENT_DONE');
        if (paid) out.push(this.orders.statusChanged(paid));
        const placed = await this.repo.transition(tx, orderId, ['PAYMENT_DONE'], 'PLACED');
        if (placed) out.push(this.orders.statusChanged(placed));
        if (!placed) {
          const order = await this.repo.find(tx, orderId);
          if (!order || !['PLACED', 'ON_WAY', 'DELIVERED'].includes(order.status)) {
            // Confirmation of an order that is not payable any more: a saga bug, surfaced, not hidden.
            this.logger.error({ orderId, status: order?.status }, 'ConfirmOrder for an order that cannot be placed');
            return out;
          }
        }
        out.push(reply(envelope, 'OrderPlaced', { orderId }));
        return out;
      }
      case 'PaymentCompleted': {
        const { orderId } = parsePayload('PaymentCompleted', envelope.payload);
        const row = await this.repo.transition(tx, orderId, ['PAYMENT_PENDING'], 'PAYMENT_DONE');
        return row ? [this.orders.statusChanged(row)] : [];
      }
      default:
        // Other events on payment.events (PaymentFailed, PaymentRefunded) need nothing from the order.
        return [];
    }
  };
}
