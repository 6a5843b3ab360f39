import { keysetOrder } from '@saga/nest-kit';
import type { Queryable, Transaction } from '@saga/postgres';

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

/** A debits row as the batch reads it. */
interface RecordedDebit {
  paymentId: string;
  status: DebitStatus;
  failureCode: string | null;
  customerId: string;
  amountCents: number;
  currency: string;
}

export interface DebitInput {
  paymentId: string;
  customerId: string;
  amountCents: number;
  currency: string;
  description: string | null;
}

const TX_COLUMNS = `id, type, amount_cents AS "amountCents", currency, description, reference, created_at AS "createdAt"`;

// A batch of debits takes three statements whatever its size (ADR 10, fifth addendum): the wallets
// are locked first, in id order (so two batches cannot deadlock, and every debit of a customer waits
// for the one before), then the debits already recorded are read (after the lock, so nothing
// committed before it is missed), then the batch is decided in memory, debit by debit in order, and
// written at once. The write only takes money for the debit rows it inserted; a row another
// transaction inserted meanwhile (a reversal's tombstone) makes the batch a race to run again.
const LOCK_WALLETS_SQL = `SELECT customer_id AS "customerId", balance_cents AS "balanceCents", currency
  FROM wallets WHERE customer_id = ANY($1::text[]) ORDER BY customer_id FOR UPDATE`;

// One index probe per payment id (the debits table only grows; see KNOWN_INBOX_SQL for why not ANY).
const RECORDED_DEBITS_SQL = `SELECT d.payment_id AS "paymentId", d.status, d.failure_code AS "failureCode",
         d.customer_id AS "customerId", d.amount_cents AS "amountCents", d.currency
  FROM unnest($1::text[]) AS u(id)
  CROSS JOIN LATERAL (SELECT * FROM debits WHERE payment_id = u.id LIMIT 1) AS d`;

/** $1..$7: payment ids, customers, amounts, currencies, statuses, failure codes, descriptions (in batch order). */
const WRITE_DEBITS_SQL = `
WITH batch AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])
    WITH ORDINALITY AS b(payment_id, customer_id, amount_cents, currency, status, failure_code, description, ord)
),
claimed AS (
  INSERT INTO debits (payment_id, customer_id, amount_cents, currency, status, failure_code)
  SELECT payment_id, customer_id, amount_cents, currency, status, failure_code FROM batch ORDER BY ord
  ON CONFLICT (payment_id) DO NOTHING
  RETURNING payment_id
),
applied AS (
  SELECT b.* FROM batch b JOIN claimed c USING (payment_id) WHERE b.status = 'APPLIED'
),
taken AS (
  UPDATE wallets w SET balance_cents = w.balance_cents - t.total, updated_at = now()
  FROM (SELECT customer_id, sum(amount_cents) AS total FROM applied GROUP BY customer_id) t
  WHERE w.customer_id = t.customer_id
),
ledger AS (
  INSERT INTO wallet_transactions (customer_id, type, amount_cents, currency, description, reference)
  SELECT customer_id, 'DEBIT', amount_cents, currency, description, payment_id FROM applied ORDER BY ord
)
SELECT payment_id AS "paymentId" FROM claimed`;

/** A debit of the batch was recorded by another transaction after the batch read the recorded ones. */
export class DebitRaceError extends Error {
  constructor(paymentIds: readonly string[]) {
    super(`debits ${paymentIds.join(', ')} were recorded concurrently`);
    this.name = 'DebitRaceError';
  }
}

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

/** SQL of the wallet service. Every call but the debits' is a single statement: atomic without BEGIN/COMMIT round trips. */
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

  /**
   * Debits in batch order, each idempotent by its payment id: a payment id already recorded (before
   * or earlier in the batch) answers its recorded outcome (`fresh: false`); otherwise the debit is
   * APPLIED if the wallet exists, has its currency and holds the amount after the debits before it,
   * else REJECTED with the reason. Three statements for the whole batch, in two round trips (the
   * recorded debits are read in the same write as the lock, and run after it). Throws
   * {@link DebitRaceError} (roll back and run again) if a debit was recorded concurrently.
   */
  async debitMany(tx: Transaction, batch: readonly DebitInput[]): Promise<DebitOutcome[]> {
    if (batch.length === 0) return [];
    const customers = [...new Set(batch.map((d) => d.customerId))].sort();
    const paymentIds = [...new Set(batch.map((d) => d.paymentId))];
    const [locked, read] = await Promise.all([tx.query<WalletRow>(LOCK_WALLETS_SQL, [customers]), tx.query<RecordedDebit>(RECORDED_DEBITS_SQL, [paymentIds])]);
    // This query's own rows: their balances follow the batch's decisions below.
    const wallets = new Map(locked.rows.map((w) => [w.customerId, w]));
    const recorded = new Map(read.rows.map((r) => [r.paymentId, r]));
    const outcomes: DebitOutcome[] = [];
    const fresh: (DebitInput & { status: DebitStatus; failureCode: string | null })[] = [];
    for (const d of batch) {
      const known = recorded.get(d.paymentId);
      if (known) {
        const { status, failureCode, customerId, amountCents, currency } = known;
        outcomes.push({ fresh: false, status, failureCode, customerId, amountCents, currency, balanceCents: null, walletCurrency: null });
        continue;
      }
      const w = wallets.get(d.customerId);
      const failureCode = !w ? 'UNKNOWN_CUSTOMER' : w.currency !== d.currency ? 'VALIDATION_FAILED' : w.balanceCents < d.amountCents ? 'INSUFFICIENT_FUNDS' : null;
      const status: DebitStatus = failureCode === null ? 'APPLIED' : 'REJECTED';
      if (w && status === 'APPLIED') w.balanceCents -= d.amountCents;
      outcomes.push({
        fresh: true,
        status,
        failureCode,
        customerId: d.customerId,
        amountCents: d.amountCents,
        currency: d.currency,
        balanceCents: w && status === 'APPLIED' ? w.balanceCents : null,
        walletCurrency: w?.currency ?? null,
      });
      recorded.set(d.paymentId, { paymentId: d.paymentId, status, failureCode, customerId: d.customerId, amountCents: d.amountCents, currency: d.currency });
      fresh.push({ ...d, status, failureCode });
    }
    if (fresh.length === 0) return outcomes;
    const { rows } = await tx.query<{ paymentId: string }>(WRITE_DEBITS_SQL, [
      fresh.map((f) => f.paymentId),
      fresh.map((f) => f.customerId),
      fresh.map((f) => f.amountCents),
      fresh.map((f) => f.currency),
      fresh.map((f) => f.status),
      fresh.map((f) => f.failureCode),
      fresh.map((f) => f.description),
    ]);
    if (rows.length !== fresh.length) {
      const claimed = new Set(rows.map((r) => r.paymentId));
      throw new DebitRaceError(fresh.filter((f) => !claimed.has(f.paymentId)).map((f) => f.paymentId));
    }
    return outcomes;
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
