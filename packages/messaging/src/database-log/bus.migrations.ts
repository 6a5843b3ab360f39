import type { Migration } from '@saga/postgres';

/**
 * Tables of the durable in-process log (`DatabaseLogBroker`), in a database (or schema) of its own.
 *
 * - `bus_records`: the partitioned log; `offset` increases per partition, with no gap.
 * - `bus_positions`: per consumer group and partition, the offset it reads next.
 */
export const BUS_MIGRATIONS: Migration[] = [
  {
    name: '20261201100000_create_bus_records_and_positions',
    up: `
      CREATE TABLE bus_records (
        topic text NOT NULL,
        partition int NOT NULL,
        "offset" bigint NOT NULL,
        key text NOT NULL,
        headers jsonb NOT NULL,
        value text,
        appended_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (topic, partition, "offset")
      );
      CREATE TABLE bus_positions (
        group_id text NOT NULL,
        topic text NOT NULL,
        partition int NOT NULL,
        next_offset bigint NOT NULL,
        PRIMARY KEY (group_id, topic, partition)
      );
    `,
  },
];
