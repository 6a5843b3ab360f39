import type { Migration } from '@saga/postgres';

export const WALLET_MIGRATIONS: Migration[] = [
  {
    name: '20261123093000_create_wallets',
    up: `
      CREATE TABLE wallets (
        customer_id text PRIMARY KEY,
        balance_cents bigint NOT NULL CHECK (balance_cents >= 0),
        currency text NOT NULL DEFAULT 'USD',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE wallet_transactions (
        id bigserial PRIMARY KEY,
        customer_id text NOT NULL REFERENCES wallets (customer_id),
        type text NOT NULL CHECK (type IN ('DEPOSIT', 'WITHDRAWAL', 'DEBIT', 'REFUND')),
        amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
        currency text NOT NULL,
        description text,
        reference text,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX wallet_transactions_customer_idx ON wallet_transactions (customer_id, id DESC);
      -- One row per payment id: the idempotency key of debits and the tombstone of early reversals.
      -- APPLIED: money taken; REJECTED: refused (failure_code); REVERSED: taken then refunded;
      -- VOIDED: reversed before any debit arrived, so a late debit is refused.
      CREATE TABLE debits (
        payment_id text PRIMARY KEY,
        customer_id text NOT NULL,
        amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
        currency text NOT NULL,
        status text NOT NULL CHECK (status IN ('APPLIED', 'REJECTED', 'REVERSED', 'VOIDED')),
        failure_code text,
        created_at timestamptz NOT NULL DEFAULT now(),
        reversed_at timestamptz
      );
    `,
  },
];
