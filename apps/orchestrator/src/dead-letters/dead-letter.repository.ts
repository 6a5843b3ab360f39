import type { Envelope } from '@saga/contracts';
import { DLQ_HEADERS, type IncomingMessage } from '@saga/messaging';
import { keysetOrder } from '@saga/nest-kit';
import type { Queryable } from '@saga/postgres';

/** One dead letter as stored (and shown to operators). */
export interface DeadLetterRow {
  id: string;
  dlqTopic: string;
  dlqPartition: number;
  dlqOffset: string;
  originalTopic: string;
  key: string;
  messageId: string | null;
  messageType: string | null;
  sagaId: string | null;
  reason: string;
  error: string;
  consumerGroup: string | null;
  failedAt: string | null;
  envelope: Envelope;
  headers: Record<string, string>;
  receivedAt: string;
  replayedAt: string | null;
  replayMessageId: string | null;
}

export interface DeadLetterFilter {
  originalTopic?: string;
  replayed?: boolean;
  sagaId?: string;
  /** Rows to read (a page's limit + 1, so one more tells there is a next page). */
  limit: number;
  /** Keyset position: the id of the previous page's last row. */
  afterId?: string;
  sort: 'asc' | 'desc';
}

const COLUMNS = `id::text AS id, dlq_topic, dlq_partition, dlq_offset::text AS dlq_offset, original_topic, message_key, message_id,
  message_type, saga_id, reason, error, consumer_group, failed_at, envelope, headers, received_at, replayed_at, replay_message_id`;

interface Row {
  id: string;
  dlq_topic: string;
  dlq_partition: number;
  dlq_offset: string;
  original_topic: string;
  message_key: string;
  message_id: string | null;
  message_type: string | null;
  saga_id: string | null;
  reason: string;
  error: string;
  consumer_group: string | null;
  failed_at: Date | null;
  envelope: Envelope;
  headers: Record<string, string>;
  received_at: Date;
  replayed_at: Date | null;
  replay_message_id: string | null;
}

function rowOf(r: Row): DeadLetterRow {
  return {
    id: r.id,
    dlqTopic: r.dlq_topic,
    dlqPartition: r.dlq_partition,
    dlqOffset: r.dlq_offset,
    originalTopic: r.original_topic,
    key: r.message_key,
    messageId: r.message_id,
    messageType: r.message_type,
    sagaId: r.saga_id,
    reason: r.reason,
    error: r.error,
    consumerGroup: r.consumer_group,
    failedAt: r.failed_at?.toISOString() ?? null,
    envelope: r.envelope,
    headers: r.headers,
    receivedAt: r.received_at.toISOString(),
    replayedAt: r.replayed_at?.toISOString() ?? null,
    replayMessageId: r.replay_message_id,
  };
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/** The source topic of a letter: its `dlq-original-topic` header, else the DLQ name minus `.dlq`. */
function originalTopicOf(m: IncomingMessage): string {
  return m.headers?.[DLQ_HEADERS.originalTopic] ?? m.topic.replace(/\.dlq$/, '');
}

/** The dead_letters table: written by the collector, read and marked replayed by the operator API. */
export class DeadLetterRepository {
  /**
   * Stores a batch of DLQ records; a record seen before (same DLQ topic, partition and offset) is
   * skipped, so a redelivered batch changes nothing. One statement per batch.
   */
  async insertBatch(tx: Queryable, batch: readonly IncomingMessage[]): Promise<number> {
    if (batch.length === 0) return 0;
    const rows = batch.map((m) => {
      const h = m.headers ?? {};
      const failedAt = h[DLQ_HEADERS.failedAt];
      return {
        dlq_topic: m.topic,
        dlq_partition: m.partition,
        dlq_offset: m.offset,
        original_topic: originalTopicOf(m),
        message_key: m.key,
        message_id: text(m.envelope.id),
        message_type: text(m.envelope.type),
        saga_id: text(m.envelope.sagaId) ?? text(m.key),
        reason: h[DLQ_HEADERS.reason] ?? 'unknown',
        error: h[DLQ_HEADERS.error] ?? (m.decodeError ? m.decodeError : 'no dlq-error header'),
        consumer_group: h[DLQ_HEADERS.consumerGroup] ?? null,
        failed_at: failedAt !== undefined && !Number.isNaN(Date.parse(failedAt)) ? failedAt : null,
        envelope: m.envelope,
        headers: h,
      };
    });
    const { rows: inserted } = await tx.query<{ id: string }>(
      `INSERT INTO dead_letters (dlq_topic, dlq_partition, dlq_offset, original_topic, message_key, message_id, message_type,
         saga_id, reason, error, consumer_group, failed_at, envelope, headers)
       SELECT r.dlq_topic, r.dlq_partition, r.dlq_offset, r.original_topic, r.message_key, r.message_id, r.message_type,
         r.saga_id, r.reason, r.error, r.consumer_group, r.failed_at, r.envelope, r.headers
       FROM jsonb_to_recordset($1::jsonb) AS r(dlq_topic text, dlq_partition int, dlq_offset bigint, original_topic text,
         message_key text, message_id text, message_type text, saga_id text, reason text, error text, consumer_group text,
         failed_at timestamptz, envelope jsonb, headers jsonb)
       ON CONFLICT (dlq_topic, dlq_partition, dlq_offset) DO NOTHING
       RETURNING id`,
      // jsonb refuses a NUL character, which a malformed letter may hold: drop it rather than block the topic.
      [JSON.stringify(rows).replace(/\\u0000/g, '')],
    );
    return inserted.length;
  }

  /** By id (the order they were received in), after the keyset position `afterId`. */
  async list(db: Queryable, f: DeadLetterFilter): Promise<DeadLetterRow[]> {
    const { after, direction } = keysetOrder(f.sort);
    const { rows } = await db.query<Row>(
      `SELECT ${COLUMNS} FROM dead_letters
       WHERE ($1::text IS NULL OR original_topic = $1)
         AND ($2::boolean IS NULL OR (replayed_at IS NOT NULL) = $2)
         AND ($3::text IS NULL OR saga_id = $3)
         AND ($5::bigint IS NULL OR id ${after} $5::bigint)
       ORDER BY id ${direction}
       LIMIT $4`,
      [f.originalTopic ?? null, f.replayed ?? null, f.sagaId ?? null, f.limit, f.afterId ?? null],
    );
    return rows.map(rowOf);
  }

  async get(db: Queryable, id: string, forUpdate = false): Promise<DeadLetterRow | null> {
    const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM dead_letters WHERE id = $1::bigint${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
    return rows.length === 0 ? null : rowOf(rows[0]);
  }

  async markReplayed(tx: Queryable, id: string, replayMessageId: string): Promise<Date> {
    const { rows } = await tx.query<{ replayed_at: Date }>(
      'UPDATE dead_letters SET replayed_at = now(), replay_message_id = $2 WHERE id = $1::bigint RETURNING replayed_at',
      [id, replayMessageId],
    );
    return rows[0].replayed_at;
  }

  async count(db: Queryable): Promise<{ total: number; pending: number }> {
    const { rows } = await db.query<{ total: string; pending: string }>(
      'SELECT count(*) AS total, count(*) FILTER (WHERE replayed_at IS NULL) AS pending FROM dead_letters',
    );
    return { total: Number(rows[0].total), pending: Number(rows[0].pending) };
  }
}
