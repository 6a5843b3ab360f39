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
];
