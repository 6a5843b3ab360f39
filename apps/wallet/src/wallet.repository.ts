import { keysetOrder } from '@saga/nest-kit';
import type { Queryable } from '@saga/postgres';

export interface WalletRow {
  customerId: string;
  balanceCents: number;
  currency: string;
}

export interface TransactionRow {
  id: number;
  type: 'DEPOSIT' | 'WITHDRAWAL' | 'DEBIT' | 'REFUND';
  amountCents: number;
  currency: string;
  description: string | null;
  reference: string | null;
  createdAt: Date;
}

export type DebitStatus = 'APPLIED' | 'REJECTED' | 'REVERSED' | 'VOIDED';

export interface DebitOutcome {
  /** false when the payment id was seen before and this is its recorded outcome. */
  fresh: boolean;
  status: DebitStatus;
  failureCode: string | null;
  customerId: string;
  amountCents: number;
  currency: string;
  /** Balance after a fresh APPLIED debit. */
  balanceCents: number | null;
  /** Wallet currency seen by a fresh REJECTED debit (to explain a currency mismatch). */
  walletCurrency: string | null;
}

export interface DebitInput {
  paymentId: string;
  customerId: string;
  amountCents: number;
  currency: string;
  description: string | null;
}

const TX_COLUMNS = `id, type, amount_cents AS "amountCents", currency, description, reference, created_at AS "createdAt"`;

// The debit decides, records and applies in ONE statement (one round trip, atomic): the debits row is
// claimed first (its primary key serialises concurrent calls with one payment id), the wallet row is
// locked FOR UPDATE so the funds check sees the latest balance, and the balance update and ledger row
// only happen when the claim says APPLIED. A repeat finds `existing` and changes nothing.
const DEBIT_SQL = `
WITH existing AS (
  SELECT customer_id, amount_cents, currency, status, failure_code FROM debits WHERE payment_id = $1
),
wallet AS (
  SELECT balance_cents, currency FROM wallets
  WHERE customer_id = $2 AND NOT EXISTS (SELECT 1 FROM existing)
  FOR UPDATE
),
claim AS (
  INSERT INTO debits (payment_id, customer_id, amount_cents, currency, status, failure_code)
  SELECT $1, $2, $3, $4,
         CASE WHEN w.currency = $4 AND w.balance_cents >= $3 THEN 'APPLIED' ELSE 'REJECTED' END,
         CASE WHEN w.currency IS NULL THEN 'UNKNOWN_CUSTOMER'
              WHEN w.currency <> $4 THEN 'VALIDATION_FAILED'
              WHEN w.balance_cents < $3 THEN 'INSUFFICIENT_FUNDS' END
  FROM (VALUES (1)) AS one (x) LEFT JOIN wallet w ON true
  WHERE NOT EXISTS (SELECT 1 FROM existing)
  ON CONFLICT (payment_id) DO NOTHING
  RETURNING status, failure_code
),
applied AS (
  UPDATE wallets SET balance_cents = balance_cents - $3, updated_at = now()
  FROM claim WHERE wallets.customer_id = $2 AND claim.status = 'APPLIED'
  RETURNING wallets.balance_cents
),
ledger AS (
  INSERT INTO wallet_transactions (customer_id, type, amount_cents, currency, description, reference)
  SELECT $2, 'DEBIT', $3, $4, $5, $1 FROM applied
)
SELECT true AS fresh, c.status, c.failure_code AS "failureCode", $2::text AS "customerId",
       $3::bigint AS "amountCents", $4::text AS currency, a.balance_cents AS "balanceCents",
       w.currency AS "walletCurrency"
FROM claim c LEFT JOIN applied a ON true LEFT JOIN wallet w ON true
UNION ALL
SELECT false, e.status, e.failure_code, e.customer_id, e.amount_cents, e.currency, NULL, NULL FROM existing e`;

// Reverse-if-applied, one statement: a tombstone (VOIDED) is claimed when no debit exists yet, an
// APPLIED debit becomes REVERSED and its money goes back with a REFUND row. `prior` tells what a
// repeat call found.
const REVERSE_SQL = `
WITH tomb AS (
  INSERT INTO debits (payment_id, customer_id, amount_cents, currency, status)
  VALUES ($1, '', 0, '', 'VOIDED')
  ON CONFLICT (payment_id) DO NOTHING
  RETURNING payment_id
),
rev AS (
  UPDATE debits SET status = 'REVERSED', reversed_at = now()
  WHERE payment_id = $1 AND status = 'APPLIED' AND NOT EXISTS (SELECT 1 FROM tomb)
  RETURNING customer_id, amount_cents, currency
),
refund AS (
  UPDATE wallets SET balance_cents = wallets.balance_cents + rev.amount_cents, updated_at = now()
  FROM rev WHERE wallets.customer_id = rev.customer_id
  RETURNING wallets.customer_id
),
ledger AS (
  INSERT INTO wallet_transactions (customer_id, type, amount_cents, currency, description, reference)
  SELECT customer_id, 'REFUND', amount_cents, currency, $2, $1 FROM rev
)
SELECT (SELECT count(*) FROM tomb)::int AS voided,
       (SELECT count(*) FROM rev)::int AS reversed,
       (SELECT count(*) FROM refund)::int AS refunded,
       (SELECT status FROM debits WHERE payment_id = $1) AS prior`;

/** SQL of the wallet service. Every call is a single statement: atomic without BEGIN/COMMIT round trips. */
export class WalletRepository {
  async find(db: Queryable, customerId: string): Promise<WalletRow | undefined> {
    const res = await db.query<WalletRow>(
      `SELECT customer_id AS "customerId", balance_cents AS "balanceCents", currency FROM wallets WHERE customer_id = $1`,
      [customerId],
    );
    return res.rows[0];
  }

  /** Creates a wallet with an opening DEPOSIT; undefined when it already exists. */
  async create(db: Queryable, w: WalletRow): Promise<WalletRow | undefined> {
    const res = await db.query<WalletRow>(
      `WITH created AS (
         INSERT INTO wallets (customer_id, balance_cents, currency) VALUES ($1, $2, $3)
         ON CONFLICT (customer_id) DO NOTHING
         RETURNING customer_id, balance_cents, currency
       ), opening AS (
         INSERT INTO wallet_transactions (customer_id, type, amount_cents, currency, description)
         SELECT customer_id, 'DEPOSIT', balance_cents, currency, 'opening balance' FROM created WHERE balance_cents > 0
       )
       SELECT customer_id AS "customerId", balance_cents AS "balanceCents", currency FROM created`,
      [w.customerId, w.balanceCents, w.currency],
    );
    return res.rows[0];
  }

  /**
   * Adds (DEPOSIT) or takes (WITHDRAWAL) money and records the transaction. Undefined when the wallet
   * does not exist, has another currency, or (withdrawal) has less than the amount.
   */
  async move(
    db: Queryable,
    type: 'DEPOSIT' | 'WITHDRAWAL',
    m: { customerId: string; amountCents: number; currency: string | null; description: string | null },
  ): Promise<{ wallet: WalletRow; transaction: TransactionRow } | undefined> {
    const delta = type === 'DEPOSIT' ? m.amountCents : -m.amountCents;
    const res = await db.query<WalletRow & { tx: TransactionRow }>(
      `WITH w AS (
         UPDATE wallets SET balance_cents = balance_cents + $2, updated_at = now()
         WHERE customer_id = $1 AND ($3::text IS NULL OR currency = $3) AND balance_cents + $2 >= 0
         RETURNING customer_id, balance_cents, currency
       ), t AS (
         INSERT INTO wallet_transactions (customer_id, type, amount_cents, currency, description)
         SELECT customer_id, $4, $5, currency, $6 FROM w
         RETURNING ${TX_COLUMNS}
       )
       SELECT w.customer_id AS "customerId", w.balance_cents AS "balanceCents", w.currency, row_to_json(t) AS tx
       FROM w, t`,
      [m.customerId, delta, m.currency, type, m.amountCents, m.description],
    );
    const row = res.rows[0];
    if (!row) return undefined;
    const { tx, ...wallet } = row;
    return { wallet, transaction: { ...tx, createdAt: new Date(tx.createdAt) } };
  }

  /** Newest first; undefined when the wallet does not exist. */
  /** A page of a customer's transactions by id after `afterId`; undefined when the wallet does not exist. */
  async transactions(
    db: Queryable,
    customerId: string,
    o: { limit: number; afterId: number | undefined; sort: 'asc' | 'desc' },
  ): Promise<TransactionRow[] | undefined> {
    const { after, direction } = keysetOrder(o.sort);
    const res = await db.query<TransactionRow & { id: number | null }>(
      `SELECT t.id, t.type, t.amount_cents AS "amountCents", t.currency, t.description, t.reference, t.created_at AS "createdAt"
       FROM wallets w
       LEFT JOIN LATERAL (
         SELECT * FROM wallet_transactions
         WHERE customer_id = w.customer_id AND ($3::bigint IS NULL OR id ${after} $3::bigint)
         ORDER BY id ${direction} LIMIT $2
       ) t ON true
       WHERE w.customer_id = $1`,
      [customerId, o.limit, o.afterId ?? null],
    );
    if (res.rows.length === 0) return undefined;
    return res.rows.filter((r) => r.id !== null);
  }

  async debit(db: Queryable, d: DebitInput): Promise<DebitOutcome> {
    const res = await db.query<DebitOutcome>(DEBIT_SQL, [d.paymentId, d.customerId, d.amountCents, d.currency, d.description]);
    if (res.rows[0]) return res.rows[0];
    // A concurrent call with the same payment id committed after our snapshot: read its outcome.
    const again = await db.query<DebitOutcome>(
      `SELECT false AS fresh, status, failure_code AS "failureCode", customer_id AS "customerId",
              amount_cents AS "amountCents", currency, NULL AS "balanceCents", NULL AS "walletCurrency"
       FROM debits WHERE payment_id = $1`,
      [d.paymentId],
    );
    if (!again.rows[0]) throw new Error(`debit ${d.paymentId} vanished`);
    return again.rows[0];
  }

  /** Reverse-if-applied; true when money went back now or earlier, false when nothing was ever taken. */
  async reverse(db: Queryable, paymentId: string, description: string): Promise<'REVERSED' | 'NOTHING_TO_REVERSE'> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await db.query<{ voided: number; reversed: number; refunded: number; prior: DebitStatus | null }>(
        REVERSE_SQL,
        [paymentId, description],
      );
      const r = res.rows[0];
      if (r.reversed > 0) {
        if (r.refunded !== 1) throw new Error(`reversal of ${paymentId} found no wallet to refund`);
        return 'REVERSED';
      }
      if (r.voided > 0) return 'NOTHING_TO_REVERSE';
      if (r.prior === 'REVERSED' || r.prior === 'APPLIED') return 'REVERSED';
      if (r.prior === 'REJECTED' || r.prior === 'VOIDED') return 'NOTHING_TO_REVERSE';
      // A concurrent debit or reversal of this id committed after our snapshot: look again.
    }
    throw new Error(`reversal of ${paymentId} kept racing`);
  }
}
