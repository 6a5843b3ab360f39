import type { Migration } from '@saga/postgres';

export const PAYMENT_MIGRATIONS: Migration[] = [
  {
    name: '20261123095000_create_payments',
    up: `
      -- One row per order (idempotency per order id). A row with tombstone = true records a
      -- RefundPayment that came before any ProcessPayment: the late ProcessPayment does nothing.
      CREATE TABLE payments (
        id text PRIMARY KEY,
        order_id text NOT NULL UNIQUE,
        customer_id text NOT NULL,
        amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
        currency text NOT NULL,
        status text NOT NULL CHECK (status IN ('PENDING', 'COMPLETED', 'FAILED', 'REFUNDED')),
        failure_code text,
        failure_reason text,
        attempts int NOT NULL DEFAULT 0,
        tombstone boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE payment_transactions (
        id bigserial PRIMARY KEY,
        payment_id text NOT NULL,
        order_id text NOT NULL,
        type text NOT NULL CHECK (type IN ('PAYMENT', 'REFUND')),
        status text NOT NULL CHECK (status IN ('PENDING', 'COMPLETED', 'FAILED')),
        amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
        currency text NOT NULL,
        description text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX payment_transactions_order_idx ON payment_transactions (order_id, id);
      -- Wallet reversals still owed: a debit whose outcome is unknown (WALLET_UNAVAILABLE) or a refund
      -- the wallet could not take yet. The reconciler calls the wallet until it succeeds.
      CREATE TABLE pending_reversals (
        payment_id text PRIMARY KEY,
        order_id text NOT NULL,
        reason text NOT NULL CHECK (reason IN ('UNKNOWN_DEBIT', 'REFUND')),
        due_at timestamptz NOT NULL DEFAULT now(),
        attempts int NOT NULL DEFAULT 0,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX pending_reversals_due_idx ON pending_reversals (due_at);
    `,
  },
  {
    name: '20261204233000_parked_payments',
    up: `
      -- A PENDING payment is parked: its wallet debit did not answer within the consumer's hold, so
      -- the consumer moved on and the parked-debit worker finishes it (reply and event through the
      -- outbox). command: the ProcessPayment envelope it answers; due_at: when a worker may
      -- (re)try the wallet; last_error: why the last try did not settle it.
      ALTER TABLE payments ADD COLUMN command jsonb, ADD COLUMN due_at timestamptz, ADD COLUMN last_error text;
      CREATE INDEX payments_parked_due_idx ON payments (due_at) WHERE status = 'PENDING';
    `,
  },
];
