import { ErrorCode } from '@saga/contracts';
import type { DebitResult, ReverseResult } from './wallet.client';

export type PaymentCommand =
  | { type: 'ProcessPayment'; orderId: string; paymentId: string; customerId: string; amountCents: number; currency: string }
  | { type: 'RefundPayment'; orderId: string; paymentId: string }
  | { type: 'IssueRefund'; orderId: string; paymentId: string };

export type PaymentStatus = 'PENDING' | 'COMPLETED' | 'FAILED' | 'REFUNDED';

export interface PaymentRow {
  id: string;
  orderId: string;
  customerId: string;
  amountCents: number;
  currency: string;
  status: PaymentStatus;
  failureCode: string | null;
  failureReason: string | null;
  attempts: number;
  /** A RefundPayment came before any ProcessPayment. */
  tombstone: boolean;
  /** A wallet reversal is still owed for this payment. */
  pendingReversal: boolean;
}

export interface LedgerEntry {
  paymentId: string;
  orderId: string;
  type: 'PAYMENT' | 'REFUND';
  status: 'PENDING' | 'COMPLETED' | 'FAILED';
  amountCents: number;
  currency: string;
  description: string;
}

export type PaymentReply =
  | { type: 'PaymentCompleted'; payload: { orderId: string; paymentId: string; attempts?: number } }
  | { type: 'PaymentFailed'; payload: { orderId: string; paymentId: string; code: ErrorCode; reason: string; attempts?: number } }
  | { type: 'PaymentRefunded'; payload: { orderId: string; paymentId: string } }
  | { type: 'RefundIssued'; payload: { orderId: string; paymentId: string; pending?: string } }
  | { type: 'RefundDeclined'; payload: { orderId: string; paymentId: string; code: ErrorCode; reason: string } };

export type WalletResult = DebitResult | ReverseResult;

/** What applying one command does. */
export interface PaymentStep {
  row: PaymentRow | undefined;
  /** The row changed (or was created): upsert it. */
  changed: boolean;
  ledger: LedgerEntry[];
  /** Owe a wallet reversal (insert) or settle one (delete). */
  pending: { add: 'UNKNOWN_DEBIT' | 'REFUND' } | { remove: true } | null;
  /** None while the payment is parked (PENDING): the debit's outcome answers the saga later. */
  reply: PaymentReply | null;
  /** Also published on payment.events (only real changes, not repeats). */
  event: boolean;
}

/** The wallet call a command needs in this state, if any. Repeats of a recorded outcome need none. */
export function walletCallFor(row: PaymentRow | undefined, cmd: PaymentCommand): 'debit' | 'reverse' | null {
  if (cmd.type === 'ProcessPayment') return row ? null : 'debit';
  // A return's refund: only of a COMPLETED payment (anything else is declined, or a repeat).
  if (cmd.type === 'IssueRefund') return row?.status === 'COMPLETED' && !row.tombstone ? 'reverse' : null;
  if (!row) return 'reverse';
  // COMPLETED: undo the debit. PENDING: the parked debit may or may not have landed; a reverse
  // leaves a tombstone in the wallet, so a debit arriving after it is refused.
  if (row.status === 'COMPLETED' || row.status === 'PENDING') return 'reverse';
  if (row.status === 'FAILED' && row.pendingReversal) return 'reverse';
  return null;
}

/**
 * Applies one command to the payment of its order, given the wallet's answer when
 * {@link walletCallFor} asked for a call. Pure: the consumer runs it in `prepare` (to chain an
 * order's wallet calls) and again in the transaction on the locked rows.
 *
 * @example
 * const step = applyPaymentCommand(undefined, processPayment, { outcome: 'APPLIED', attempts: 1 });
 * step.reply.type === 'PaymentCompleted'
 */
export function applyPaymentCommand(row: PaymentRow | undefined, cmd: PaymentCommand, result: WalletResult | undefined): PaymentStep {
  const { orderId } = cmd;
  if (cmd.type === 'ProcessPayment') {
    if (row) return { row, changed: false, ledger: [], pending: null, reply: row.status === 'PENDING' ? null : recordedOutcome(row), event: false };
    const debit = requireResult(result, cmd, 'debit') as DebitResult;
    const base = {
      id: cmd.paymentId,
      orderId,
      customerId: cmd.customerId,
      amountCents: cmd.amountCents,
      currency: cmd.currency,
      attempts: debit.attempts,
      tombstone: false,
      pendingReversal: false,
    };
    const entry = (status: LedgerEntry['status'], description: string): LedgerEntry => ({
      paymentId: cmd.paymentId,
      orderId,
      type: 'PAYMENT',
      status,
      amountCents: cmd.amountCents,
      currency: cmd.currency,
      description,
    });
    if (debit.outcome === 'APPLIED') {
      const next: PaymentRow = { ...base, status: 'COMPLETED', failureCode: null, failureReason: null };
      return {
        row: next,
        changed: true,
        ledger: [entry('COMPLETED', `payment for order ${orderId}${debit.attempts > 1 ? ` (after ${debit.attempts} attempts)` : ''}`)],
        pending: null,
        reply: recordedOutcome(next),
        event: true,
      };
    }
    const code = debit.outcome === 'UNAVAILABLE' ? ErrorCode.WalletUnavailable : debit.code;
    const next: PaymentRow = { ...base, status: 'FAILED', failureCode: code, failureReason: debit.reason, pendingReversal: debit.outcome === 'UNAVAILABLE' };
    return {
      row: next,
      changed: true,
      ledger: [entry('FAILED', debit.reason)],
      // The debit's outcome is unknown: owe a reverse-if-applied until the wallet answers.
      pending: debit.outcome === 'UNAVAILABLE' ? { add: 'UNKNOWN_DEBIT' } : null,
      reply: recordedOutcome(next),
      event: true,
    };
  }

  if (cmd.type === 'IssueRefund') return issueRefund(row, cmd, result);

  const refunded: PaymentReply = { type: 'PaymentRefunded', payload: { orderId, paymentId: row?.id ?? cmd.paymentId } };
  const call = walletCallFor(row, cmd);
  if (call === null) return { row, changed: false, ledger: [], pending: null, reply: refunded, event: false };
  const reverse = requireResult(result, cmd, 'reverse') as ReverseResult;
  const unavailable = reverse.outcome === 'UNAVAILABLE';
  if (!row) {
    // Compensation before the command: a tombstone here, and (through the wallet call) one there.
    const tomb: PaymentRow = {
      id: cmd.paymentId,
      orderId,
      customerId: '',
      amountCents: 0,
      currency: 'USD',
      status: 'REFUNDED',
      failureCode: null,
      failureReason: null,
      attempts: reverse.attempts,
      tombstone: true,
      pendingReversal: unavailable,
    };
    return { row: tomb, changed: true, ledger: [], pending: unavailable ? { add: 'UNKNOWN_DEBIT' } : null, reply: refunded, event: false };
  }
  if (row.status === 'PENDING') {
    // Compensated while parked: canceled before it was processed, like a tombstone; a debit that
    // did land is undone by this reverse (or, if the wallet is away, by the reconciler).
    const next: PaymentRow = { ...row, status: 'REFUNDED', tombstone: true, attempts: row.attempts + reverse.attempts, pendingReversal: unavailable };
    return { row: next, changed: true, ledger: [], pending: unavailable ? { add: 'UNKNOWN_DEBIT' } : null, reply: refunded, event: false };
  }
  if (row.status === 'COMPLETED') {
    const next: PaymentRow = { ...row, status: 'REFUNDED', pendingReversal: unavailable };
    return {
      row: next,
      changed: true,
      ledger: [
        {
          paymentId: row.id,
          orderId,
          type: 'REFUND',
          status: unavailable ? 'PENDING' : 'COMPLETED',
          amountCents: row.amountCents,
          currency: row.currency,
          description: unavailable ? `refund for order ${orderId}, scheduled: ${reverse.reason}` : `refund for order ${orderId}`,
        },
      ],
      pending: unavailable ? { add: 'REFUND' } : null,
      reply: refunded,
      event: true,
    };
  }
  // FAILED with a reversal owed: settled now unless the wallet is still away.
  return {
    row: unavailable ? row : { ...row, pendingReversal: false },
    changed: false,
    ledger: [],
    pending: unavailable ? null : { remove: true },
    reply: refunded,
    event: false,
  };
}

/**
 * IssueRefund (the return saga's pivot): a business refund of a COMPLETED payment through the
 * wallet's reverse (idempotent by payment id, the same call as RefundPayment's). Unlike that
 * compensation, a payment that is not COMPLETED is declined (NOT_REFUNDABLE). The wallet down:
 * - no try reached it (connection refused): nothing moved, the refund is declined with
 *   WALLET_UNAVAILABLE (a FAILED ledger row records it) and the saga puts the order back to PLACED;
 * - a try may have reached it: the money may be back already, so the refund cannot be declined: it
 *   is owed (REFUNDED, a PENDING ledger row, a pending reversal the reconciler retries until the
 *   wallet takes it) and issued with `pending` saying so.
 * A repeat (REFUNDED already, by this return or an earlier try of it) is issued again, unchanged.
 */
function issueRefund(row: PaymentRow | undefined, cmd: Extract<PaymentCommand, { type: 'IssueRefund' }>, result: WalletResult | undefined): PaymentStep {
  const { orderId, paymentId } = cmd;
  const unchanged = (reply: PaymentReply, ledger: LedgerEntry[] = []): PaymentStep => ({ row, changed: false, ledger, pending: null, reply, event: false });
  if (row?.status === 'REFUNDED' && !row.tombstone) {
    return unchanged({ type: 'RefundIssued', payload: { orderId, paymentId: row.id, ...(row.pendingReversal ? { pending: 'the wallet has not confirmed it yet' } : {}) } });
  }
  if (!row || row.tombstone || row.status !== 'COMPLETED') {
    const why = !row ? 'has no payment' : row.tombstone ? 'had its payment canceled' : `has a ${row.status} payment`;
    return unchanged({ type: 'RefundDeclined', payload: { orderId, paymentId: row?.id ?? paymentId, code: ErrorCode.NotRefundable, reason: `order ${orderId} ${why}: nothing to refund` } });
  }
  const reverse = requireResult(result, cmd, 'reverse') as ReverseResult;
  const entry = (status: LedgerEntry['status'], description: string): LedgerEntry => ({
    paymentId: row.id,
    orderId,
    type: 'REFUND',
    status,
    amountCents: row.amountCents,
    currency: row.currency,
    description,
  });
  if (reverse.outcome === 'UNAVAILABLE' && reverse.reached === false) {
    const reason = `refund refused: ${reverse.reason}`;
    return unchanged({ type: 'RefundDeclined', payload: { orderId, paymentId: row.id, code: ErrorCode.WalletUnavailable, reason } }, [entry('FAILED', `return of order ${orderId}: ${reason}`)]);
  }
  const unknown = reverse.outcome === 'UNAVAILABLE';
  const next: PaymentRow = { ...row, status: 'REFUNDED', pendingReversal: unknown };
  return {
    row: next,
    changed: true,
    ledger: [entry(unknown ? 'PENDING' : 'COMPLETED', unknown ? `refund for the return of order ${orderId}, owed: ${reverse.reason}` : `refund for the return of order ${orderId}`)],
    pending: unknown ? { add: 'REFUND' } : null,
    reply: { type: 'RefundIssued', payload: { orderId, paymentId: row.id, ...(unknown ? { pending: `wallet retried until it takes it (${reverse.reason})` } : {}) } },
    event: true,
  };
}

/**
 * A ProcessPayment whose wallet call did not answer within the consumer's hold: recorded PENDING
 * (no reply yet) and finished by the parked-debit worker when the wallet answers.
 */
export function parkedPayment(cmd: Extract<PaymentCommand, { type: 'ProcessPayment' }>): PaymentRow {
  return {
    id: cmd.paymentId,
    orderId: cmd.orderId,
    customerId: cmd.customerId,
    amountCents: cmd.amountCents,
    currency: cmd.currency,
    status: 'PENDING',
    failureCode: null,
    failureReason: null,
    attempts: 0,
    tombstone: false,
    pendingReversal: false,
  };
}

function recordedOutcome(row: PaymentRow): PaymentReply {
  const attempts = row.attempts > 0 ? row.attempts : undefined;
  if (row.tombstone) {
    return {
      type: 'PaymentFailed',
      payload: { orderId: row.orderId, paymentId: row.id, code: ErrorCode.Conflict, reason: `the payment of order ${row.orderId} was canceled before it was processed` },
    };
  }
  if (row.status === 'FAILED') {
    return {
      type: 'PaymentFailed',
      payload: {
        orderId: row.orderId,
        paymentId: row.id,
        code: (row.failureCode as ErrorCode | null) ?? ErrorCode.Internal,
        reason: row.failureReason ?? 'payment failed',
        ...(attempts ? { attempts } : {}),
      },
    };
  }
  // COMPLETED, or REFUNDED later: the payment itself went through.
  return { type: 'PaymentCompleted', payload: { orderId: row.orderId, paymentId: row.id, ...(attempts ? { attempts } : {}) } };
}

/** Thrown when the state moved between `prepare` and the transaction: the batch is retried. */
export class StalePreparationError extends Error {}

function requireResult(result: WalletResult | undefined, cmd: PaymentCommand, call: 'debit' | 'reverse'): WalletResult {
  if (!result) throw new StalePreparationError(`${cmd.type} of order ${cmd.orderId} needs a wallet ${call} that was not prepared`);
  const isDebit = result.outcome === 'APPLIED' || result.outcome === 'REJECTED';
  const isReverse = result.outcome === 'REVERSED' || result.outcome === 'NOTHING_TO_REVERSE';
  if ((call === 'debit' && isReverse) || (call === 'reverse' && isDebit)) {
    throw new StalePreparationError(`${cmd.type} of order ${cmd.orderId} was prepared with the wrong wallet call`);
  }
  return result;
}
