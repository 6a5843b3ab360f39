import type { Envelope } from '@saga/contracts';
import { keysetOrder } from '@saga/nest-kit';
import type { Queryable, Transaction } from '@saga/postgres';
import type { LedgerEntry, PaymentRow } from './payment.planner';

export interface LedgerRow {
  id: number;
  paymentId: string;
  type: 'PAYMENT' | 'REFUND';
  status: string;
  amountCents: number;
  currency: string;
  description: string;
  createdAt: Date;
}

export interface DueReversal {
  paymentId: string;
  orderId: string;
  reason: 'UNKNOWN_DEBIT' | 'REFUND';
  attempts: number;
}

/** A parked payment a worker may try the wallet for. */
export interface DueParked {
  paymentId: string;
  orderId: string;
  /** The ProcessPayment envelope it answers. */
  command: Envelope;
  parkedAt: Date;
}

const PAYMENT_COLUMNS = `p.id, p.order_id AS "orderId", p.customer_id AS "customerId", p.amount_cents AS "amountCents",
  p.currency, p.status, p.failure_code AS "failureCode", p.failure_reason AS "failureReason", p.attempts, p.tombstone,
  (r.payment_id IS NOT NULL) AS "pendingReversal"`;

/**
 * SQL of the payment service; the consumer's writes are one statement per kind per batch, queued
 * (`Transaction.queue`): they travel with the outbox insert after them.
 */
export class PaymentRepository {
  /** Plain read (no locks) for `prepare`, outside the transaction. */
  async byOrders(db: Queryable, orderIds: readonly string[]): Promise<Map<string, PaymentRow>> {
    const res = await db.query<PaymentRow>(
      `SELECT ${PAYMENT_COLUMNS} FROM payments p LEFT JOIN pending_reversals r ON r.payment_id = p.id
       WHERE p.order_id = ANY($1::text[])`,
      [[...new Set(orderIds)]],
    );
    return new Map(res.rows.map((r) => [r.orderId, r]));
  }

  /** Serialises work on these orders across transactions, then reads their payments afresh (one round trip). */
  async lockByOrders(tx: Transaction, orderIds: readonly string[]): Promise<Map<string, PaymentRow>> {
    tx.queue(
      `SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(id, 7303) AS h FROM unnest($1::text[]) AS id) k ORDER BY h`,
      [[...new Set(orderIds)]],
    );
    return this.byOrders(tx, orderIds);
  }

  savePayments(tx: Transaction, rows: readonly PaymentRow[]): void {
    if (rows.length === 0) return;
    tx.queue(
      `INSERT INTO payments (id, order_id, customer_id, amount_cents, currency, status, failure_code, failure_reason, attempts, tombstone)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::boolean[])
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, failure_code = excluded.failure_code,
         failure_reason = excluded.failure_reason, attempts = excluded.attempts, tombstone = excluded.tombstone, updated_at = now()`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.orderId),
        rows.map((r) => r.customerId),
        rows.map((r) => r.amountCents),
        rows.map((r) => r.currency),
        rows.map((r) => r.status),
        rows.map((r) => r.failureCode),
        rows.map((r) => r.failureReason),
        rows.map((r) => r.attempts),
        rows.map((r) => r.tombstone),
      ],
    );
  }

  /** Records parked payments (PENDING, with the command they answer); a worker may retry them after `dueInMs`. */
  parkPayments(tx: Transaction, parked: readonly { row: PaymentRow; command: Envelope }[], dueInMs: number): void {
    if (parked.length === 0) return;
    tx.queue(
      `INSERT INTO payments (id, order_id, customer_id, amount_cents, currency, status, command, due_at)
       SELECT i, o, c, a, cur, 'PENDING', cmd, now() + make_interval(secs => $7::double precision / 1000)
       FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::jsonb[]) AS t(i, o, c, a, cur, cmd)`,
      [
        parked.map((p) => p.row.id),
        parked.map((p) => p.row.orderId),
        parked.map((p) => p.row.customerId),
        parked.map((p) => p.row.amountCents),
        parked.map((p) => p.row.currency),
        parked.map((p) => JSON.stringify(p.command)),
        dueInMs,
      ],
    );
  }

  /** Claims due parked payments with a lease (safe with several instances), skipping those in `busy`. */
  async claimDueParked(db: Queryable, limit: number, leaseMs: number, busy: readonly string[]): Promise<DueParked[]> {
    const res = await db.query<DueParked>(
      `UPDATE payments SET due_at = now() + make_interval(secs => $2::double precision / 1000)
       WHERE id IN (
         SELECT id FROM payments WHERE status = 'PENDING' AND due_at <= now() AND NOT (id = ANY($3::text[]))
         ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED
       )
       RETURNING id AS "paymentId", order_id AS "orderId", command, created_at AS "parkedAt"`,
      [limit, leaseMs, busy],
    );
    return res.rows;
  }

  async postponeParked(db: Queryable, paymentId: string, delayMs: number, error: string): Promise<void> {
    await db.query(
      `UPDATE payments SET due_at = now() + make_interval(secs => $2::double precision / 1000), last_error = $3
       WHERE id = $1 AND status = 'PENDING'`,
      [paymentId, delayMs, error],
    );
  }

  addLedger(tx: Transaction, entries: readonly LedgerEntry[]): void {
    if (entries.length === 0) return;
    tx.queue(
      `INSERT INTO payment_transactions (payment_id, order_id, type, status, amount_cents, currency, description)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[])`,
      [
        entries.map((e) => e.paymentId),
        entries.map((e) => e.orderId),
        entries.map((e) => e.type),
        entries.map((e) => e.status),
        entries.map((e) => e.amountCents),
        entries.map((e) => e.currency),
        entries.map((e) => e.description),
      ],
    );
  }

  /** Owes wallet reversals; the first try is due after `delayMs` (the wallet was just unavailable). */
  addPendingReversals(
    tx: Transaction,
    rows: readonly { paymentId: string; orderId: string; reason: 'UNKNOWN_DEBIT' | 'REFUND' }[],
    delayMs: number,
  ): void {
    if (rows.length === 0) return;
    tx.queue(
      `INSERT INTO pending_reversals (payment_id, order_id, reason, due_at)
       SELECT p, o, r, now() + make_interval(secs => $4::double precision / 1000)
       FROM unnest($1::text[], $2::text[], $3::text[]) AS t(p, o, r)
       ON CONFLICT (payment_id) DO NOTHING`,
      [rows.map((r) => r.paymentId), rows.map((r) => r.orderId), rows.map((r) => r.reason), delayMs],
    );
  }

  removePendingReversals(tx: Transaction, paymentIds: readonly string[]): void {
    if (paymentIds.length === 0) return;
    tx.queue(`DELETE FROM pending_reversals WHERE payment_id = ANY($1::text[])`, [paymentIds]);
  }

  /** Claims due reversals with a lease (safe with several instances). */
  async claimDueReversals(db: Queryable, limit: number, leaseMs: number): Promise<DueReversal[]> {
    const res = await db.query<DueReversal>(
      `UPDATE pending_reversals SET due_at = now() + make_interval(secs => $2::double precision / 1000), attempts = attempts + 1
       WHERE payment_id IN (
         SELECT payment_id FROM pending_reversals WHERE due_at <= now() ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED
       )
       RETURNING payment_id AS "paymentId", order_id AS "orderId", reason, attempts`,
      [limit, leaseMs],
    );
    return res.rows;
  }

  /** The wallet took the reversal: forget it, and complete a scheduled refund's ledger row. */
  async settleReversal(db: Queryable, paymentId: string): Promise<void> {
    await db.query(
      `WITH gone AS (DELETE FROM pending_reversals WHERE payment_id = $1 RETURNING payment_id)
       UPDATE payment_transactions SET status = 'COMPLETED'
       WHERE payment_id IN (SELECT payment_id FROM gone) AND type = 'REFUND' AND status = 'PENDING'`,
      [paymentId],
    );
  }

  async postponeReversal(db: Queryable, paymentId: string, delayMs: number, error: string): Promise<void> {
    await db.query(
      `UPDATE pending_reversals SET due_at = now() + make_interval(secs => $2::double precision / 1000), last_error = $3
       WHERE payment_id = $1`,
      [paymentId, delayMs, error],
    );
  }

  async pendingReversalCount(db: Queryable): Promise<number> {
    return (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pending_reversals`)).rows[0].n;
  }

  /** A page of an order's ledger rows by id after `afterId`. */
  async ledgerOfOrder(db: Queryable, orderId: string, o: { limit: number; afterId: number | undefined; sort: 'asc' | 'desc' }): Promise<LedgerRow[]> {
    const { after, direction } = keysetOrder(o.sort);
    const res = await db.query<LedgerRow>(
      `SELECT id, payment_id AS "paymentId", type, status, amount_cents AS "amountCents", currency, description, created_at AS "createdAt"
       FROM payment_transactions WHERE order_id = $1 AND ($3::bigint IS NULL OR id ${after} $3::bigint)
       ORDER BY id ${direction} LIMIT $2`,
      [orderId, o.limit, o.afterId ?? null],
    );
    return res.rows;
  }
}
