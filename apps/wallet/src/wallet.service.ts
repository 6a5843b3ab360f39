import { AppError, ErrorCode, fromCents, toCents } from '@saga/contracts';
import { decodeCursor, pageOf, type Page } from '@saga/nest-kit';
import { GroupCommit, type Database } from '@saga/postgres';
import type { Logger } from 'pino';
import type { DebitRequest } from './wallet.dto';
import { DebitRaceError, WalletRepository, type DebitInput, type DebitOutcome, type TransactionRow, type WalletRow } from './wallet.repository';

/** DESIGN §3 answers a refused withdrawal with 409 INSUFFICIENT_FUNDS (a saga's refused payment is a 402). */
class WithdrawalRefused extends AppError {
  override get status(): number {
    return 409;
  }
}

/** Runs of a debit batch that keeps racing concurrent reversals before it fails (503 to the caller). */
const DEBIT_ATTEMPTS = 3;

const money = (cents: number, currency: string) => `${fromCents(cents).toFixed(2)} ${currency}`;

/** Balances, deposits, withdrawals, and the payment service's idempotent debits and reversals. */
export class WalletService {
  private readonly repo = new WalletRepository();
  /**
   * Concurrent debits share one transaction (group commit): one fsync and three statements for all
   * of them. A batch that raced a concurrent reversal runs again: the reversal's row is then read.
   */
  private readonly debits = new GroupCommit<DebitInput, DebitOutcome>(async (batch) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction((tx) => this.repo.debitMany(tx, batch));
      } catch (err) {
        if (!(err instanceof DebitRaceError) || attempt >= DEBIT_ATTEMPTS) throw err;
      }
    }
  });

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  async get(customerId: string): Promise<WalletRow> {
    const wallet = await this.repo.find(this.db, customerId);
    if (!wallet) throw notFound(customerId);
    return wallet;
  }

  async create(customerId: string, balance: number, currency: string): Promise<WalletRow> {
    const created = await this.repo.create(this.db, { customerId, balanceCents: toCents(balance), currency });
    if (!created) throw new AppError(ErrorCode.Conflict, `wallet of ${customerId} already exists`, { customerId });
    return created;
  }

  async move(
    type: 'DEPOSIT' | 'WITHDRAWAL',
    customerId: string,
    input: { amount: number; currency?: string; description?: string },
  ): Promise<{ wallet: WalletRow; transaction: TransactionRow }> {
    const amountCents = toCents(input.amount);
    const done = await this.repo.move(this.db, type, {
      customerId,
      amountCents,
      currency: input.currency ?? null,
      description: input.description ?? (type === 'DEPOSIT' ? 'deposit' : 'withdrawal'),
    });
    if (done) return done;
    // Refused: a second read (error path only) says why.
    const wallet = await this.get(customerId);
    if (input.currency && input.currency !== wallet.currency) {
      throw new AppError(ErrorCode.ValidationFailed, `currency: must be ${wallet.currency}, the wallet's currency`, {
        field: 'currency',
      });
    }
    throw new WithdrawalRefused(
      ErrorCode.InsufficientFunds,
      `insufficient funds: balance ${money(wallet.balanceCents, wallet.currency)}, requested ${money(amountCents, wallet.currency)}`,
      { customerId, balance: fromCents(wallet.balanceCents) },
    );
  }

  /** A page of the customer's transactions (404 when the wallet does not exist). */
  async transactions(customerId: string, q: { limit: number; cursor?: string; sort: 'asc' | 'desc' }): Promise<Page<TransactionRow>> {
    const afterId = decodeCursor(q.cursor, 1)?.map(Number)[0];
    const rows = await this.repo.transactions(this.db, customerId, { limit: q.limit + 1, afterId, sort: q.sort });
    if (!rows) throw notFound(customerId);
    return pageOf(rows, q.limit, (r) => [Number(r.id)]);
  }

  /**
   * Debit for a payment, idempotent by payment id: a repeat answers the first outcome without a
   * second effect. Refusals throw AppError (INSUFFICIENT_FUNDS 402, UNKNOWN_CUSTOMER 404,
   * CONFLICT 409 when the payment was reversed first, VALIDATION_FAILED 400 for a currency mismatch).
   */
  async debit(d: DebitRequest) {
    return answerOf(d, await this.debits.submit(debitInput(d)));
  }

  /**
   * Several debits in one transaction (`POST /internal/debits/batch`), each idempotent by its
   * payment id and answered on its own: the HTTP status and body a single debit would have got.
   */
  async debitMany(ds: readonly DebitRequest[]): Promise<{ paymentId: string; status: number; body: Record<string, unknown> }[]> {
    const settled = await this.debits.submitAll(ds.map(debitInput));
    return ds.map((d, i) => {
      const s = settled[i];
      try {
        if (s.status === 'rejected') throw s.reason;
        return { paymentId: d.paymentId, status: 200, body: answerOf(d, s.value) };
      } catch (err) {
        if (!(err instanceof AppError)) {
          this.logger.warn({ err, paymentId: d.paymentId }, 'debit failed');
          return { paymentId: d.paymentId, status: 503, body: { code: ErrorCode.Unavailable, message: 'the debit could not be written, try again' } };
        }
        return { paymentId: d.paymentId, status: err.status, body: { code: err.code, message: err.message, ...err.details } };
      }
    });
  }

  /** Reverse-if-applied: refunds an applied debit once; before any debit, leaves a tombstone. */
  async reverse(paymentId: string, description?: string): Promise<{ status: 'REVERSED' | 'NOTHING_TO_REVERSE'; paymentId: string }> {
    const status = await this.repo.reverse(this.db, paymentId, description ?? `refund of payment ${paymentId}`);
    return { status, paymentId };
  }
}

function notFound(customerId: string): AppError {
  return new AppError(ErrorCode.NotFound, `wallet of ${customerId} does not exist`, { customerId });
}

function debitInput(d: DebitRequest): DebitInput {
  return {
    paymentId: d.paymentId,
    customerId: d.customerId,
    amountCents: d.amountCents,
    currency: d.currency,
    description: d.description ?? `payment ${d.paymentId}`,
  };
}

/**
 * A debit's answer: the APPLIED result, or the refusal as an AppError (INSUFFICIENT_FUNDS 402,
 * UNKNOWN_CUSTOMER 404, CONFLICT 409 when the payment was reversed first, VALIDATION_FAILED 400
 * for a currency mismatch).
 */
function answerOf(d: DebitRequest, outcome: DebitOutcome) {
  const details = { paymentId: d.paymentId, customerId: d.customerId };
  switch (outcome.status) {
    case 'APPLIED':
      return {
        status: 'APPLIED' as const,
        paymentId: d.paymentId,
        customerId: outcome.customerId,
        amountCents: outcome.amountCents,
        currency: outcome.currency,
        balanceCents: outcome.balanceCents,
        replayed: !outcome.fresh,
      };
    case 'REVERSED':
    case 'VOIDED':
      throw new AppError(ErrorCode.Conflict, `payment ${d.paymentId} was reversed`, details);
    case 'REJECTED':
      switch (outcome.failureCode) {
        case ErrorCode.InsufficientFunds:
          throw new AppError(
            ErrorCode.InsufficientFunds,
            `insufficient funds: ${outcome.customerId} cannot pay ${money(outcome.amountCents, outcome.currency)}`,
            details,
          );
        case ErrorCode.UnknownCustomer:
          throw new AppError(ErrorCode.UnknownCustomer, `customer ${outcome.customerId} has no wallet`, details);
        default:
          throw new AppError(
            ErrorCode.ValidationFailed,
            `currency: ${outcome.currency} is not the wallet's currency${outcome.walletCurrency ? ` (${outcome.walletCurrency})` : ''}`,
            { ...details, field: 'currency' },
          );
      }
  }
}
