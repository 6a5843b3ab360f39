import { withTraceparent } from '@saga/telemetry';
import { parsePayload } from '@saga/contracts';
import { newEnvelope, reply, toTopic, type IncomingMessage, type OutgoingMessage } from '@saga/messaging';
import type { Database, Queryable } from '@saga/postgres';
import type { Logger } from 'pino';
import { applyPaymentCommand, walletCallFor, type LedgerEntry, type PaymentCommand, type PaymentRow, type WalletResult } from './payment.planner';
import { PaymentRepository } from './payment.repository';
import type { WalletClient } from './wallet.client';

/** Wallet answers gathered in `prepare`, by message id. */
export type WalletAnswers = Map<string, WalletResult>;

export interface PaymentTopics {
  replies: string;
  events: string;
}

/**
 * The payment service's part of the saga (payment.commands). `prepare` calls the wallet outside
 * the transaction (the batch's first debits in one batch call; an order with several commands
 * chained in order, orders concurrently, bounded); `handle` records the
 * outcomes, ledger rows, owed reversals, replies and payment.events in the consumer's transaction.
 * A repeated command answers the recorded outcome without calling the wallet again.
 *
 * RefundPayment calls the wallet's reverse-if-applied synchronously (same bounded retries). When the
 * wallet is down, the refund is made durable instead of failing the message: the payment becomes
 * REFUNDED with a PENDING ledger row and a pending_reversals row in the same transaction, the reply
 * goes out, and the reconciler finishes the wallet side (ledger row → COMPLETED) when it is back.
 */
export class PaymentCommandsHandler {
  private readonly repo = new PaymentRepository();

  constructor(
    private readonly db: Database,
    private readonly wallet: WalletClient,
    private readonly logger: Logger,
    private readonly topics: PaymentTopics,
    private readonly o: { walletConcurrency: number; reversalDelayMs: number },
  ) {}

  prepare = async (messages: readonly IncomingMessage[]): Promise<WalletAnswers> => {
    const work = commandsOf(messages, this.logger);
    const answers: WalletAnswers = new Map();
    if (work.length === 0) return answers;
    const rows = await this.repo.byOrders(this.db, work.map((w) => w.command.orderId));
    const byOrder = [...Map.groupBy(work, (w) => w.command.orderId).values()];
    // The common case, one ProcessPayment of an order not yet paid, goes in one batch call: one
    // request and one wallet transaction for all of them. The rest is chained per order below.
    const batched = byOrder.filter((w) => w.length === 1 && w[0].command.type === 'ProcessPayment' && walletCallFor(rows.get(w[0].command.orderId), w[0].command) === 'debit');
    const debits = batched.map((w) => w[0] as { message: IncomingMessage; command: Extract<PaymentCommand, { type: 'ProcessPayment' }> });
    const chained = byOrder.filter((w) => !batched.includes(w));
    const debitAll = async () => {
      if (debits.length === 0) return;
      // One request carries one trace context: the first command's (the others' spans stay in their own traces).
      const { traceparent, correlationId } = debits[0].message.envelope;
      const results = await withTraceparent(traceparent, () => this.wallet.debitMany(debits.map((d) => d.command), correlationId));
      debits.forEach((d, i) => answers.set(d.message.envelope.id, results[i]));
    };
    const chainAll = forEachLimited(chained, this.o.walletConcurrency, async (orderWork) => {
      let row: PaymentRow | undefined = rows.get(orderWork[0].command.orderId);
      for (const { message, command } of orderWork) {
        const call = walletCallFor(row, command);
        let answer: WalletResult | undefined;
        // The wallet call joins the trace of the command that asked for it.
        const { traceparent, correlationId } = message.envelope;
        if (call === 'debit' && command.type === 'ProcessPayment') answer = await withTraceparent(traceparent, () => this.wallet.debit(command, correlationId));
        else if (call === 'reverse') answer = await withTraceparent(traceparent, () => this.wallet.reverse(command, correlationId));
        if (answer) answers.set(message.envelope.id, answer);
        row = applyPaymentCommand(row, command, answer).row;
      }
    });
    await Promise.all([debitAll(), chainAll]);
    return answers;
  };

  handle = async (tx: Queryable, messages: readonly IncomingMessage[], answers: WalletAnswers): Promise<readonly OutgoingMessage[]> => {
    const work = commandsOf(messages, this.logger);
    if (work.length === 0) return [];
    const rows = await this.repo.lockByOrders(tx, work.map((w) => w.command.orderId));
    const changed = new Map<string, PaymentRow>();
    const ledger: LedgerEntry[] = [];
    const owed: { paymentId: string; orderId: string; reason: 'UNKNOWN_DEBIT' | 'REFUND' }[] = [];
    const settled: string[] = [];
    const out: OutgoingMessage[] = [];
    for (const { message, command } of work) {
      const step = applyPaymentCommand(rows.get(command.orderId), command, answers.get(message.envelope.id));
      if (step.row) rows.set(command.orderId, step.row);
      if (step.changed && step.row) changed.set(step.row.id, step.row);
      ledger.push(...step.ledger);
      if (step.pending && 'add' in step.pending) owed.push({ paymentId: step.row!.id, orderId: command.orderId, reason: step.pending.add });
      if (step.pending && 'remove' in step.pending) settled.push(step.row!.id);
      const { type, payload } = step.reply;
      out.push({ ...reply(message.envelope, type, payload as never), topic: this.topics.replies });
      if (step.event) {
        const e = message.envelope;
        // The event joins the trace of the command that caused it, as the reply does.
        const meta = { sagaId: e.sagaId, correlationId: e.correlationId, causationId: e.id, traceparent: e.traceparent };
        out.push(toTopic(this.topics.events, newEnvelope(type, payload as never, meta)));
      }
      if (type === 'PaymentFailed' && step.event) this.logger.info({ ...payload }, 'payment failed');
    }
    await this.repo.savePayments(tx, [...changed.values()]);
    await this.repo.addLedger(tx, ledger);
    await this.repo.addPendingReversals(tx, owed, this.o.reversalDelayMs);
    await this.repo.removePendingReversals(tx, settled);
    return out;
  };
}

function commandsOf(messages: readonly IncomingMessage[], logger: Logger): { message: IncomingMessage; command: PaymentCommand }[] {
  const work: { message: IncomingMessage; command: PaymentCommand }[] = [];
  for (const message of messages) {
    const { type, payload } = message.envelope;
    if (type === 'ProcessPayment') work.push({ message, command: { type, ...parsePayload('ProcessPayment', payload) } });
    else if (type === 'RefundPayment') work.push({ message, command: { type, ...parsePayload('RefundPayment', payload) } });
    else logger.warn({ type, sagaId: message.envelope.sagaId }, 'ignoring unknown message type');
  }
  return work;
}

/** Runs `fn` over `items` with at most `limit` at once. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}
