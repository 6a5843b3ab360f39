import type { Migration } from '@saga/postgres';

/**
 * The outbox and inbox tables every service database carries. Append them to the service's own
 * migrations (they are frozen like any other migration).
 *
 * - `outbox`: messages committed with the business change, waiting for the relay. `headers` holds
 *   the Kafka headers exactly as they will be sent (envelope metadata + extras), `payload` the body.
 * - `inbox`: ids of the messages already handled; a redelivered one is skipped.
 *
 * @example
 * await migrate(db, [...MESSAGING_MIGRATIONS, ...ORDER_MIGRATIONS]);
 */
export const MESSAGING_MIGRATIONS: Migration[] = [
  {
    name: '20261123090000_create_outbox_and_inbox',
    up: `
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        topic text NOT NULL,
        key text NOT NULL,
        headers jsonb NOT NULL,
        payload jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE inbox (
        message_id uuid PRIMARY KEY,
        received_at timestamptz NOT NULL DEFAULT now()
      );
      -- retention deletes the oldest rows; the index grows at its right edge only
      CREATE INDEX inbox_received_at_idx ON inbox (received_at);
    `,
  },
];
