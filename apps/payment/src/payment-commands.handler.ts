import { setTimeout as delay } from 'node:timers/promises';
import { withTraceparent } from '@saga/telemetry';
import { parsePayload, type Envelope } from '@saga/contracts';
import { newEnvelope, reply, toTopic, type IncomingMessage, type OutgoingMessage } from '@saga/messaging';
import type { Database, Transaction } from '@saga/postgres';
import type { Logger } from 'pino';
import type { ParkedDebits } from './parked-debits';
import { applyPaymentCommand, parkedPayment, walletCallFor, type LedgerEntry, type PaymentCommand, type PaymentRow, type PaymentStep, type WalletResult } from './payment.planner';
import { PaymentRepository } from './payment.repository';
import type { DebitResult, WalletClient } from './wallet.client';

/** What `prepare` gathered, by message id: wallet answers, and debits still out when the hold ran out. */
export interface PreparedPayments {
  answers: Map<string, WalletResult>;
  parked: Map<string, Promise<DebitResult>>;
}

export interface PaymentTopics {
  replies: string;
  events: string;
}

/** The reply to a command and, for a real change, its event on payment.events (same trace). */
export function outcomeMessages(command: Envelope, step: PaymentStep, topics: PaymentTopics): OutgoingMessage[] {
  if (!step.reply) return [];
  const { type, payload } = step.reply;
  const out: OutgoingMessage[] = [{ ...reply(command, type, payload as never), topic: topics.replies }];
  if (step.event) {
    const meta = { sagaId: command.sagaId, correlationId: command.correlationId, causationId: command.id, traceparent: command.traceparent };
    out.push(toTopic(topics.events, newEnvelope(type, payload as never, meta)));
  }
  return out;
}

/** Writes what a batch of steps changed: payments, ledger rows, owed reversals settled or added. */
export function saveSteps(tx: Transaction, repo: PaymentRepository, steps: readonly PaymentStep[], reversalDelayMs: number): void {
  const changed = new Map<string, PaymentRow>();
  const ledger: LedgerEntry[] = [];
  const owed: { paymentId: string; orderId: string; reason: 'UNKNOWN_DEBIT' | 'REFUND' }[] = [];
  const settled: string[] = [];
  for (const step of steps) {
    if (step.changed && step.row) changed.set(step.row.id, step.row);
    ledger.push(...step.ledger);
    if (step.pending && 'add' in step.pending) owed.push({ paymentId: step.row!.id, orderId: step.row!.orderId, reason: step.pending.add });
    if (step.pending && 'remove' in step.pending) settled.push(step.row!.id);
  }
  repo.savePayments(tx, [...changed.values()]);
  repo.addLedger(tx, ledger);
  repo.addPendingReversals(tx, owed, reversalDelayMs);
  repo.removePendingReversals(tx, settled);
}

/**
 * The payment service's part of the saga (payment.commands). `prepare` calls the wallet outside
 * the transaction (the batch's first debits in one batch call; an order with several commands
 * chained in order, orders concurrently, bounded); `handle` records the
 * outcomes, ledger rows, owed reversals, replies and payment.events in the consumer's transaction.
 * A repeated command answers the recorded outcome without calling the wallet again.
 *
 * The batch debit is waited for at most `walletHoldMs`: debits still out then are parked (the
 * payment is recorded PENDING, no reply) and {@link ParkedDebits} finishes them when the call
 * answers, so a slow wallet holds neither the batch nor the partitions behind it.
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
    private readonly parkedDebits: ParkedDebits,
    private readonly o: { walletConcurrency: number; reversalDelayMs: number; walletHoldMs: number },
  ) {}

  prepare = async (messages: readonly IncomingMessage[]): Promise<PreparedPayments> => {
    const work = commandsOf(messages, this.logger);
    const prepared: PreparedPayments = { answers: new Map(), parked: new Map() };
    const { answers } = prepared;
    if (work.length === 0) return prepared;
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
      const call = withTraceparent(traceparent, () => this.wallet.debitMany(debits.map((d) => d.command), correlationId));
      // A slow wallet must not hold the batch (and the partitions behind it): past the hold, these
      // debits are parked and the call's answer finishes them later.
      const held = new AbortController();
      const results = await Promise.race([call, delay(this.o.walletHoldMs, undefined, { signal: held.signal }).catch(() => undefined)]);
      held.abort();
      if (results) debits.forEach((d, i) => answers.set(d.message.envelope.id, results[i]));
      else debits.forEach((d, i) => prepared.parked.set(d.message.envelope.id, call.then((r) => r[i] as DebitResult)));
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
    return prepared;
  };

  handle = async (tx: Transaction, messages: readonly IncomingMessage[], prepared: PreparedPayments): Promise<readonly OutgoingMessage[]> => {
    const work = commandsOf(messages, this.logger);
    if (work.length === 0) return [];
    const rows = await this.repo.lockByOrders(tx, work.map((w) => w.command.orderId));
    const steps: PaymentStep[] = [];
    const parked: { row: PaymentRow; command: Envelope; answer: Promise<DebitResult> }[] = [];
    const out: OutgoingMessage[] = [];
    for (const { message, command } of work) {
      const answer = prepared.parked.get(message.envelope.id);
      if (answer && command.type === 'ProcessPayment' && !rows.has(command.orderId)) {
        const row = parkedPayment(command);
        rows.set(command.orderId, row);
        parked.push({ row, command: message.envelope, answer });
        continue;
      }
      const step = applyPaymentCommand(rows.get(command.orderId), command, prepared.answers.get(message.envelope.id));
      if (step.row) rows.set(command.orderId, step.row);
      steps.push(step);
      out.push(...outcomeMessages(message.envelope, step, this.topics));
      if (step.reply?.type === 'PaymentFailed' && step.event) this.logger.info({ ...step.reply.payload }, 'payment failed');
    }
    saveSteps(tx, this.repo, steps, this.o.reversalDelayMs);
    this.repo.parkPayments(tx, parked, this.parkedDebits.leaseMs);
    // The worker finishes each once its debit answers; it waits for this transaction (order lock).
    for (const p of parked) this.parkedDebits.adopt({ paymentId: p.row.id, orderId: p.row.orderId, command: p.command, parkedAt: new Date() }, p.answer);
    return out;
  };
}

function commandsOf(messages: readonly IncomingMessage[], logger: Logger): { message: IncomingMessage; command: PaymentCommand }[] {
  const work: { message: IncomingMessage; command: PaymentCommand }[] = [];
  for (const message of messages) {
    const { type, payload } = message.envelope;
    if (type === 'ProcessPayment') work.push({ message, command: { type, ...parsePayload('ProcessPayment', payload) } });
    else if (type === 'RefundPayment') work.push({ message, command: { type, ...parsePayload('RefundPayment', payload) } });
    else if (type === 'IssueRefund') work.push({ message, command: { type, ...parsePayload('IssueRefund', payload) } });
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
