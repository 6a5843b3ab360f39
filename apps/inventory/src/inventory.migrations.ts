import type { Migration } from '@saga/postgres';

export const INVENTORY_MIGRATIONS: Migration[] = [
  {
    name: '20261123094000_create_products_and_reservations',
    up: `
      CREATE TABLE products (
        id text PRIMARY KEY,
        name text NOT NULL,
        type text NOT NULL,
        price_cents bigint NOT NULL CHECK (price_cents >= 0),
        available int NOT NULL CHECK (available >= 0),
        reserved int NOT NULL DEFAULT 0 CHECK (reserved >= 0),
        sold int NOT NULL DEFAULT 0 CHECK (sold >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      -- One row per order: its reservation and the idempotency record of every stock command.
      -- RELEASED without a reservation is a tombstone: a late ReserveStock holds nothing.
      CREATE TABLE reservations (
        order_id text PRIMARY KEY,
        status text NOT NULL CHECK (status IN ('RESERVED', 'RELEASED', 'COMMITTED', 'REJECTED')),
        items jsonb NOT NULL,
        failure_code text,
        failure_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    name: '20261204210000_products_announced',
    up: `
      -- When the product was published on inventory.events (ProductCataloged); NULL: not yet.
      ALTER TABLE products ADD COLUMN announced_at timestamptz;
    `,
  },
  {
    name: '20261210120000_reservations_returned',
    up: `
      -- RETURNED: the order was returned (return saga) and its units are available again.
      ALTER TABLE reservations DROP CONSTRAINT reservations_status_check;
      ALTER TABLE reservations ADD CONSTRAINT reservations_status_check
        CHECK (status IN ('RESERVED', 'RELEASED', 'COMMITTED', 'REJECTED', 'RETURNED'));
    `,
  },
];
