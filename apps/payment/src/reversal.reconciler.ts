import { PeriodicRound } from '@saga/nest-kit';
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
  private readonly rounds: PeriodicRound;

  constructor(
    private readonly db: Database,
    private readonly wallet: WalletClient,
    private readonly logger: Logger,
    private readonly o: { intervalMs: number; batchSize?: number; leaseMs?: number; maxDelayMs?: number },
  ) {
    this.rounds = new PeriodicRound(() => this.runOnce(), { intervalMs: o.intervalMs, onError: (err) => logger.error({ err }, 'reversal reconciler round failed') });
  }

  start(): void {
    this.rounds.start();
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

  stop(): Promise<void> {
    return this.rounds.stop();
  }
}
