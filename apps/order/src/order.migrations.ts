import type { Migration } from '@saga/postgres';

export const ORDER_MIGRATIONS: Migration[] = [
  {
    name: '20261123100000_create_orders',
    up: `
      CREATE TABLE orders (
        id text PRIMARY KEY,
        customer_id text NOT NULL,
        status text NOT NULL,
        status_info text,
        failure_code text,
        amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
        currency text NOT NULL,
        saga_started_at timestamptz,
        expires_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX orders_customer_idx ON orders (customer_id, created_at DESC);
      CREATE INDEX orders_expiry_idx ON orders (expires_at) WHERE status = 'INITIATED' AND saga_started_at IS NULL;
      CREATE TABLE order_items (
        order_id text NOT NULL REFERENCES orders (id),
        line_no int NOT NULL,
        product_id text NOT NULL,
        quantity int NOT NULL CHECK (quantity > 0),
        unit_price_cents bigint NOT NULL CHECK (unit_price_cents >= 0),
        PRIMARY KEY (order_id, line_no)
      );
      CREATE TABLE order_status_history (
        id bigserial PRIMARY KEY,
        order_id text NOT NULL REFERENCES orders (id),
        status text NOT NULL,
        status_info text,
        at timestamptz NOT NULL DEFAULT clock_timestamp()
      );
      CREATE INDEX order_status_history_order_idx ON order_status_history (order_id, id);
    `,
  },
  {
    name: '20261204210000_create_catalog_products',
    up: `
      -- The order service's copy of the catalog (prices and names), fed by inventory.events
      -- (ProductCataloged), so an order is priced without calling the inventory service.
      CREATE TABLE catalog_products (
        id text PRIMARY KEY,
        name text NOT NULL,
        price_cents bigint NOT NULL CHECK (price_cents >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    name: '20261204235500_orders_customer_keyset_idx',
    up: `
      -- Keyset paging of a customer's orders: (created_at, id) in either direction.
      DROP INDEX orders_customer_idx;
      CREATE INDEX orders_customer_keyset_idx ON orders (customer_id, created_at, id);
    `,
  },
  {
    name: '20261205212500_create_idempotency_keys',
    up: `
      -- Idempotency-Key of saga-starting calls, scoped to the customer: written in the transaction that
      -- creates (or starts the saga of) the order, so a repeat finds the order and a second use of a
      -- key cannot make a second order. Removed after IDEMPOTENCY_KEY_TTL_MS by a periodic round.
      CREATE TABLE idempotency_keys (
        customer_id text NOT NULL,
        key text NOT NULL,
        operation text NOT NULL,
        request_hash text NOT NULL,
        order_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (customer_id, key)
      );
      CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);
    `,
  },
];
