import { parsePayload } from '@saga/contracts';
import type { OutboxRelay } from '@saga/messaging';
import { PeriodicRound } from '@saga/nest-kit';
import type { Database } from '@saga/postgres';
import { withTraceparent } from '@saga/telemetry';
import type { Logger } from 'pino';
import { outcomeMessages, saveSteps, type PaymentTopics } from './payment-commands.handler';
import { applyPaymentCommand, type PaymentCommand } from './payment.planner';
import { PaymentRepository, type DueParked } from './payment.repository';
import type { DebitResult, WalletClient } from './wallet.client';

export interface ParkedDebitsOptions {
  /** How often due parked payments are looked for (a crash, or a busy wallet's retry). */
  intervalMs: number;
  /** A busy wallet (every try timed out) is waited for this long from parking; then WALLET_UNAVAILABLE. */
  busyMaxMs: number;
  /** Delay before a parked payment whose wallet was busy is tried again. */
  busyRetryMs: number;
  /** Reversals owed by a WALLET_UNAVAILABLE outcome are first tried after this. */
  reversalDelayMs: number;
  /** A claimed (or freshly parked) payment is left to its worker this long before another may take it. */
  leaseMs: number;
  batchSize?: number;
}

/**
 * Finishes parked payments: ProcessPayment commands whose wallet debit had not answered when the
 * consumer's hold ran out. The consumer records them PENDING and moves on, so a slow or dead
 * wallet delays only the payments that wait for it, never the batch or the partitions behind it.
 *
 * A parked payment is finished by the debit call still in flight (`adopt`) or, after a crash or a
 * busy wallet, by a claim round that calls the wallet again (idempotent by payment id). Finishing is
 * one transaction under the order's lock: the payment's outcome, ledger and owed reversal as the
 * consumer would have written them, and the reply and event through the outbox — only if the
 * payment is still PENDING (a RefundPayment may have canceled it meanwhile). A wallet that only
 * timed out is busy, not down: the payment stays parked and is tried again until `busyMaxMs`.
 */
export class ParkedDebits {
  private readonly repo = new PaymentRepository();
  /** Payments whose debit call is in flight in this process: claim rounds leave them alone. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly rounds: PeriodicRound;

  constructor(
    private readonly db: Database,
    private readonly relay: OutboxRelay,
    private readonly wallet: WalletClient,
    private readonly logger: Logger,
    private readonly topics: PaymentTopics,
    private readonly o: ParkedDebitsOptions,
  ) {
    this.rounds = new PeriodicRound(() => this.runOnce(), { intervalMs: o.intervalMs, onError: (err) => logger.error({ err }, 'parked payments round failed') });
  }

  get leaseMs(): number {
    return this.o.leaseMs;
  }

  /** Finishes `parked` with the answer of the debit call already in flight for it. */
  adopt(parked: DueParked, answer: Promise<DebitResult>): void {
    if (this.inFlight.has(parked.paymentId)) return;
    const done = answer
      .then((result) => this.settle(parked, result))
      .catch((err: unknown) => this.logger.warn({ err, orderId: parked.orderId, paymentId: parked.paymentId }, 'parked payment not settled; a claim round retries it'))
      .finally(() => this.inFlight.delete(parked.paymentId));
    this.inFlight.set(parked.paymentId, done);
  }

  start(): void {
    this.rounds.start();
  }

  /** One round: tries the wallet for every due parked payment. Resolves with how many were claimed. */
  async runOnce(): Promise<number> {
    const due = await this.repo.claimDueParked(this.db, this.o.batchSize ?? 50, this.o.leaseMs, [...this.inFlight.keys()]);
    for (const parked of due) {
      const { traceparent, correlationId } = parked.command;
      this.adopt(parked, withTraceparent(traceparent, () => this.wallet.debit(commandOf(parked), correlationId)));
    }
    await Promise.all(due.map((p) => this.inFlight.get(p.paymentId)));
    return due.length;
  }

  /** Stops the claim rounds and waits for the debits in flight to be settled. */
  async stop(): Promise<void> {
    await this.rounds.stop();
    await Promise.all(this.inFlight.values());
  }

  private async settle(parked: DueParked, result: DebitResult): Promise<void> {
    const { paymentId, orderId } = parked;
    if (result.outcome === 'UNAVAILABLE' && result.busy && Date.now() - parked.parkedAt.getTime() < this.o.busyMaxMs) {
      await this.repo.postponeParked(this.db, paymentId, this.o.busyRetryMs * (0.5 + Math.random()), result.reason);
      this.logger.warn({ orderId, paymentId, error: result.reason }, 'wallet busy; parked payment tried again later');
      return;
    }
    const cmd = commandOf(parked);
    const settled = await this.relay.transaction(async (tx, enqueue) => {
      const row = (await this.repo.lockByOrders(tx, [orderId])).get(orderId);
      if (row?.id !== paymentId || row.status !== 'PENDING') return false;
      const step = applyPaymentCommand(undefined, cmd, result);
      saveSteps(tx, this.repo, [step], this.o.reversalDelayMs);
      await enqueue(outcomeMessages(parked.command, step, this.topics));
      return true;
    });
    if (settled) this.logger.info({ orderId, paymentId, outcome: result.outcome, attempts: result.attempts }, 'parked payment settled');
  }
}

/** The ProcessPayment a parked payment answers. */
function commandOf(parked: DueParked): Extract<PaymentCommand, { type: 'ProcessPayment' }> {
  return { type: 'ProcessPayment', ...parsePayload('ProcessPayment', parked.command.payload) };
}
