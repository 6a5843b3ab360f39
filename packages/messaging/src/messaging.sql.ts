// The hot-path statements of the outbox and inbox, in one place so their plans can be checked
// (outbox/plans.int-spec.ts). Each takes a whole batch as array parameters: one round trip per
// batch, and a statement text that does not change with the batch size.

/**
 * $1 topics, $2 keys, $3 headers (jsonb text), $4 payloads (jsonb text); ids follow array order.
 * $5 ids (bigint[], often empty) of rows the relay already published: deleted in the same statement,
 * so a busy service pays no round trip and no commit of its own for them (ADR 10).
 */
export const INSERT_OUTBOX_SQL = `WITH sent AS (DELETE FROM outbox WHERE id = ANY(ARRAY(SELECT unnest($5::bigint[]))))
INSERT INTO outbox (topic, key, headers, payload)
SELECT t, k, h, p FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::jsonb[]) WITH ORDINALITY AS u(t, k, h, p, n)
ORDER BY n RETURNING id`;

/**
 * Claims and deletes the oldest $1 rows no other relay holds, but for the ids $2 (the fast path's:
 * written by a transaction in flight or queued to be sent). `= ANY(ARRAY(...))` keeps the plan
 * an index scan whatever the backlog: with `IN (subquery)` PostgreSQL picks a hash semi join over
 * a sequential scan of the whole outbox once it holds some 20k rows, i.e. quadratic draining.
 */
export const CLAIM_OUTBOX_SQL = `DELETE FROM outbox
WHERE id = ANY(ARRAY(SELECT id FROM outbox WHERE id <> ALL($2::bigint[]) ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED))
RETURNING id, topic, key, headers, payload`;

/**
 * $1 ids (bigint[]) of rows the relay published on its fast path that no transaction deleted on its
 * way (behind `ARRAY(...)`, so the plan is an index probe per id whatever their number). One
 * statement, its commit not waiting for the WAL flush: a delete lost in a crash only publishes the
 * rows again (the inboxes drop them).
 */
export const DELETE_SENT_OUTBOX_SQL = `DELETE FROM outbox
WHERE id = ANY(ARRAY(SELECT unnest($1::bigint[]))) AND set_config('synchronous_commit', 'off', true) IS NOT NULL`;

/** $1 message ids (uuid[]); returns the ids that were not there yet. */
export const CLAIM_INBOX_SQL = 'INSERT INTO inbox (message_id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING RETURNING message_id';

/**
 * $1 message ids (uuid[]); the ones already in the inbox. One index probe per id: with
 * `message_id = ANY($1)` (or a join) PostgreSQL scans the whole inbox once it has ~100k rows
 * (20-30 ms per 500 ids instead of ~1.5 ms); LATERAL ... LIMIT 1 cannot be planned that way.
 */
export const KNOWN_INBOX_SQL = `SELECT u.id AS message_id FROM unnest($1::uuid[]) AS u(id)
CROSS JOIN LATERAL (SELECT 1 FROM inbox i WHERE i.message_id = u.id LIMIT 1) AS hit`;

/** $1 days (may be fractional), $2 chunk size. */
export const PRUNE_INBOX_SQL = `DELETE FROM inbox WHERE message_id = ANY(ARRAY(
  SELECT message_id FROM inbox WHERE received_at < now() - $1::float8 * interval '1 day' ORDER BY received_at LIMIT $2))`;
