import type { Database, Queryable } from '@saga/postgres';
import { CLAIM_INBOX_SQL, KNOWN_INBOX_SQL, PRUNE_INBOX_SQL } from '../messaging.sql';
import type { IncomingMessage } from '../ports';

/**
 * Records the messages' ids in the inbox inside the consumer's transaction and returns only the
 * messages seen for the first time, in their order; a message id repeated inside the batch counts
 * once. One statement per batch: the ids go in as one uuid[] and the new ones come back, so the
 * cost stays linear in the batch (no join of unnest against INSERT ... RETURNING).
 *
 * @example
 * const fresh = await claimInbox(tx, batch);   // duplicates are gone
 */
export async function claimInbox(tx: Queryable, messages: readonly IncomingMessage[]): Promise<IncomingMessage[]> {
  const n = messages.length;
  if (n === 0) return [];
  const ids = new Array<string>(n);
  for (let i = 0; i < n; i++) ids[i] = messages[i].envelope.id.toLowerCase();
  const { rows } = await tx.query<{ message_id: string }>(CLAIM_INBOX_SQL, [ids]);
  const fresh = new Set<string>();
  for (const r of rows) fresh.add(r.message_id);
  const out: IncomingMessage[] = [];
  // delete() makes a second copy of the same id inside one batch a duplicate too
  for (let i = 0; i < n; i++) if (fresh.delete(ids[i])) out.push(messages[i]);
  return out;
}

/**
 * Message ids of `messages` already in the inbox (read-only; for skipping known duplicates before
 * work done outside the transaction).
 *
 * @example
 * const known = await knownInInbox(db, batch);
 */
export async function knownInInbox(db: Queryable, messages: readonly IncomingMessage[]): Promise<Set<string>> {
  const ids = messages.map((m) => m.envelope.id.toLowerCase());
  const { rows } = await db.query<{ message_id: string }>(KNOWN_INBOX_SQL, [ids]);
  return new Set(rows.map((r) => r.message_id));
}

/**
 * Deletes inbox rows older than `days`, a bounded chunk per statement so no long lock is held.
 * A message redelivered after that window would be handled again: keep it well above any
 * redelivery delay (Kafka retention of uncommitted offsets, DLQ replays).
 *
 * @example
 * const removed = await pruneInbox(db, 7);
 */
export async function pruneInbox(db: Database, days: number, chunk = 5_000): Promise<number> {
  let removed = 0;
  for (;;) {
    const res = await db.query(PRUNE_INBOX_SQL, [days, chunk]);
    const n = res.rowCount ?? 0;
    removed += n;
    if (n < chunk) return removed;
  }
}
