import type { Migration } from '@saga/postgres';

/** Saga instances (rewritten per transition, version-guarded) and their append-only history. */
export const ORCHESTRATOR_MIGRATIONS: Migration[] = [
  {
    name: '20261123110000_create_saga_tables',
    up: `
      CREATE TABLE saga_instances (
        id text PRIMARY KEY,
        type text NOT NULL,
        status text NOT NULL CHECK (status IN ('RUNNING', 'COMPENSATING', 'COMPLETED', 'COMPENSATED', 'COMPENSATION_FAILED')),
        current_step text NOT NULL,
        attempt int NOT NULL,
        data jsonb NOT NULL,
        pending_command_ids jsonb NOT NULL,
        deadline_at timestamptz,
        deadline_kind text CHECK (deadline_kind IN ('REPLY', 'RESEND')),
        failure jsonb,
        version int NOT NULL,
        history_size int NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      );
      -- the timer poller: only sagas that wait for something are in this index
      CREATE INDEX saga_instances_due_idx ON saga_instances (deadline_at) WHERE deadline_at IS NOT NULL;
      -- operator list: newest first, optionally by status
      CREATE INDEX saga_instances_created_idx ON saga_instances (created_at DESC, id DESC);
      CREATE INDEX saga_instances_status_created_idx ON saga_instances (status, created_at DESC, id DESC);
      CREATE TABLE saga_history (
        saga_id text NOT NULL,
        seq int NOT NULL,
        at timestamptz NOT NULL,
        step text NOT NULL,
        event text NOT NULL,
        detail jsonb NOT NULL,
        PRIMARY KEY (saga_id, seq)
      );
    `,
  },
  {
    name: '20261201100000_create_dead_letters',
    up: `
      -- every message of a *.dlq topic, read by the dead-letter collector; one row per DLQ record
      -- (its position is the idempotency key: a malformed letter may have no valid message id)
      CREATE TABLE dead_letters (
        id bigserial PRIMARY KEY,
        dlq_topic text NOT NULL,
        dlq_partition int NOT NULL,
        dlq_offset bigint NOT NULL,
        original_topic text NOT NULL,
        message_key text NOT NULL,
        message_id text,
        message_type text,
        saga_id text,
        reason text NOT NULL,
        error text NOT NULL,
        consumer_group text,
        failed_at timestamptz,
        envelope jsonb NOT NULL,
        headers jsonb NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        replayed_at timestamptz,
        replay_message_id text,
        UNIQUE (dlq_topic, dlq_partition, dlq_offset)
      );
      CREATE INDEX dead_letters_received_idx ON dead_letters (received_at DESC, id DESC);
      -- the operator chart: sagas ended per second by outcome, over the last minutes
      CREATE INDEX saga_history_outcome_at_idx ON saga_history (at) WHERE event IN ('COMPLETED', 'COMPENSATED', 'COMPENSATION_FAILED');
    `,
  },
  {
    name: '20261208100000_saga_definition_versions',
    up: `
      -- the definition version an instance started on (every saga before this ran version 1)
      ALTER TABLE saga_instances ADD COLUMN definition_version int NOT NULL DEFAULT 1;
      -- events for a saga whose definition version is not registered: kept here, in the
      -- transaction that consumed them, until an orchestrator that has the version applies them
      CREATE TABLE saga_parked_events (
        id bigserial PRIMARY KEY,
        saga_id text NOT NULL,
        event jsonb NOT NULL,
        reason text NOT NULL,
        parked_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX saga_parked_events_saga_idx ON saga_parked_events (saga_id, id);
    `,
  },
];
