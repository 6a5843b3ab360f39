import type { Database } from '@saga/postgres';
import type { Logger } from 'pino';
import { PaymentRepository } from './payment.repository';
import type { WalletClient } from './wallet.client';

/**
 * Settles owed wallet reversals (debits whose outcome is unknown, refunds the wallet could not take):
 * claims due rows with a lease (several instances share the work), calls reverse-if-applied, and
 * either forgets the row or tries again later with exponential backoff and full jitter — forever,
 * so no debit is left dangling. The backlog is visible in pending_reversals (attempts, last_error).
 */
export class ReversalReconciler {
  private readonly repo = new PaymentRepository();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly db: Database,
    private readonly wallet: WalletClient,
    private readonly logger: Logger,
    private readonly o: { intervalMs: number; batchSize?: number; leaseMs?: number; maxDelayMs?: number },
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(this.o.intervalMs);
  }

  /** One round: settle what is due now. Resolves with how many reversals were settled. */
  async runOnce(): Promise<number> {
    const due = await this.repo.claimDueReversals(this.db, this.o.batchSize ?? 50, this.o.leaseMs ?? 30_000);
    let settled = 0;
    await Promise.all(
      due.map(async (r) => {
        const result = await this.wallet.reverse({ paymentId: r.paymentId, orderId: r.orderId });
        if (result.outcome === 'UNAVAILABLE') {
          const cap = Math.min(this.o.maxDelayMs ?? 60_000, 500 * 2 ** Math.min(r.attempts, 16));
          await this.repo.postponeReversal(this.db, r.paymentId, Math.random() * cap, result.reason);
          this.logger.warn({ orderId: r.orderId, paymentId: r.paymentId, attempts: r.attempts, error: result.reason }, 'wallet reversal postponed');
          return;
        }
        await this.repo.settleReversal(this.db, r.paymentId);
        settled++;
        this.logger.info({ orderId: r.orderId, paymentId: r.paymentId, reason: r.reason, outcome: result.outcome, attempts: r.attempts }, 'wallet reversal settled');
      }),
    );
    return settled;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = this.runOnce().then(
      () => undefined,
      (err: unknown) => this.logger.error({ err }, 'reversal reconciler round failed'),
    );
    await this.running;
    this.running = undefined;
    if (!this.stopped) this.schedule(this.o.intervalMs);
  }
}
