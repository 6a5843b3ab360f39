import { parsePayload, type PayloadOf } from '@saga/contracts';
import { reply, type IncomingMessage, type OutgoingMessage } from '@saga/messaging';
import type { Transaction } from '@saga/postgres';
import type { Logger } from 'pino';
import { planStockBatch, type StockCommand } from './stock.planner';
import { StockRepository } from './stock.repository';

/**
 * The inventory's part of the sagas (inventory.commands): ReserveStock, ReleaseStock, CommitStock,
 * CheckStock (place-order saga v2), and ReturnStock (return saga).
 * A batch is decided in memory and written with a handful of statements; the replies go to the
 * outbox in the same transaction (the consumer does that with what this returns).
 */
export class StockCommandsHandler {
  private readonly repo = new StockRepository();

  constructor(private readonly logger: Logger) {}

  handle = async (tx: Transaction, messages: readonly IncomingMessage[]): Promise<readonly OutgoingMessage[]> => {
    const work: { message: IncomingMessage; command: StockCommand }[] = [];
    for (const message of messages) {
      const command = toCommand(message);
      if (command) work.push({ message, command });
      else this.logger.warn({ type: message.envelope.type, sagaId: message.envelope.sagaId }, 'ignoring unknown message type');
    }
    if (work.length === 0) return [];

    const reservations = await this.repo.lockReservations(tx, work.map((w) => w.command.orderId));
    const productIds = new Set<string>();
    for (const { command } of work) if (command.type === 'ReserveStock' || command.type === 'CheckStock') for (const i of command.items) productIds.add(i.productId);
    for (const r of reservations.values()) for (const i of r.items) productIds.add(i.productId);
    const stock = await this.repo.lockStock(tx, [...productIds].sort());

    const plan = planStockBatch(work.map((w) => w.command), reservations, stock);
    this.repo.saveReservations(tx, plan.reservations);
    this.repo.applyDeltas(tx, plan.deltas);

    const out: OutgoingMessage[] = [];
    plan.outcomes.forEach((outcome, i) => {
      const { message, command } = work[i];
      const orderId = command.orderId;
      if (outcome.reply === null) {
        this.logger.error({ orderId, messageId: message.envelope.id }, outcome.problem);
      } else if (outcome.reply === 'StockReservationFailed' || outcome.reply === 'StockUnavailable') {
        out.push(reply(message.envelope, outcome.reply, { orderId, code: outcome.code, reason: outcome.reason }));
      } else {
        out.push(reply(message.envelope, outcome.reply, { orderId }));
      }
    });
    return out;
  };
}

function toCommand(m: IncomingMessage): StockCommand | undefined {
  const { type, payload } = m.envelope;
  switch (type) {
    case 'ReserveStock': {
      const p: PayloadOf<'ReserveStock'> = parsePayload('ReserveStock', payload);
      return { type, orderId: p.orderId, items: p.items };
    }
    case 'ReleaseStock':
      return { type, orderId: parsePayload('ReleaseStock', payload).orderId };
    case 'CommitStock':
      return { type, orderId: parsePayload('CommitStock', payload).orderId };
    case 'ReturnStock':
      return { type, orderId: parsePayload('ReturnStock', payload).orderId };
    case 'CheckStock': {
      const p = parsePayload('CheckStock', payload);
      return { type, orderId: p.orderId, items: p.items };
    }
    default:
      return undefined;
  }
}
