import type { Queryable } from '@saga/postgres';

/** Demo customers of DESIGN §3; CUS_0004 cannot afford the P001 laptop (999.99). */
export const WALLET_SEED: readonly { customerId: string; balanceCents: number; currency: string }[] = [
  { customerId: 'CUS_0001', balanceCents: 500_000, currency: 'USD' },
  { customerId: 'CUS_0002', balanceCents: 200_000, currency: 'USD' },
  { customerId: 'CUS_0003', balanceCents: 150_000, currency: 'USD' },
  { customerId: 'CUS_0004', balanceCents: 10_000, currency: 'USD' },
  { customerId: 'CUS_0005', balanceCents: 1_000_000, currency: 'USD' },
];

/**
 * Creates the seed wallets that do not exist yet, each with an opening DEPOSIT so the transaction
 * history adds up to the balance. Existing wallets are never touched.
 */
export async function seedWallets(db: Queryable): Promise<number> {
  const res = await db.query(
    `WITH created AS (
       INSERT INTO wallets (customer_id, balance_cents, currency)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])
       ON CONFLICT (customer_id) DO NOTHING
       RETURNING customer_id, balance_cents, currency
     )
     INSERT INTO wallet_transactions (customer_id, type, amount_cents, currency, description)
     SELECT customer_id, 'DEPOSIT', balance_cents, currency, 'opening balance' FROM created`,
    [WALLET_SEED.map((w) => w.customerId), WALLET_SEED.map((w) => w.balanceCents), WALLET_SEED.map((w) => w.currency)],
  );
  return res.rowCount ?? 0;
}
