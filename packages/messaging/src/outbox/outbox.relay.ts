import type { Logger } from 'pino';
import type { Envelope } from '@saga/contracts';
import type { Database, Transaction } from '@saga/postgres';
import { METRICS, serviceLabel } from '@saga/telemetry';
import { envelopeFromHeaders, isEnvelopeHeader } from '../envelope';
import { pruneInbox } from '../inbox/inbox.repository';
import { CLAIM_OUTBOX_SQL, DELETE_SENT_OUTBOX_SQL } from '../messaging.sql';
import { enqueueOutbox, type EnqueuedOutbox } from './outbox.writer';
import type { MessageProducer, OutgoingMessage } from '../ports';

export interface OutboxRelayOptions {
  db: Database;
  producer: MessageProducer;
  logger: Logger;
  /** Rows claimed and published per round (default 500). */
  batchSize?: number;
  /** Backstop poll when nobody calls wake() (default 250 ms). */
  pollIntervalMs?: number;
  /** Inbox rows older than this are deleted (default 7 days); 0 disables retention. */
  inboxRetentionDays?: number;
  /** How often retention runs (default 1 hour). */
  inboxRetentionIntervalMs?: number;
  /** At stop, keep publishing what is waiting for at most this long (default 5 s; 0: do not drain). */
  drainTimeoutMs?: number;
  /**
   * How long rows published on the fast path wait for the next `transaction()` to delete them in
   * its outbox insert before the relay deletes them with a statement of its own (default 50 ms):
   * under load the next transaction comes sooner; idle, the outbox is empty again within this.
   */
  sweepDelayMs?: number;
}

interface OutboxRow {
  id: number;
  topic: string;
  key: string;
  headers: Record<string, string>;
  payload: unknown;
}

// Advisory lock taken by a publishing round: with several relay instances on one outbox only one
// publishes at a time, so a saga's messages keep their id order across rounds. Keyed by the outbox
// table's oid so services sharing a database in separate schemas do not wait for each other.
// The relay's delete need not wait for its WAL flush: if it is lost in a crash, the rows are
// published again and the consumers' inboxes drop the duplicates. That saves one fsync per batch
// on the hot path; the business transactions that write the outbox stay synchronous.
const RELAY_LOCK_SQL =
  "SELECT set_config('synchronous_commit', 'off', true), pg_advisory_xact_lock(7311002, 'outbox'::regclass::oid::int)";
/**
 * Longest pause after failed rounds (50 ms doubling). Short: a pause outlives the outage that caused
 * it (a 3 s PostgreSQL restart left relays asleep for 5 s after it was back: the chaos run), and one
 * attempt a second per service costs nothing.
 */
const MAX_FAILURE_BACKOFF_MS = 1_000;
/** Most rows held for the fast path; past it, rows are left to the claim rounds. */
const MAX_FRESH = 10_000;
/** Backlog above which a service reports itself not ready (see {@link OutboxRelay.checkBacklog}). */
export const OUTBOX_READY_MAX_BACKLOG = 10_000;

/**
 * Publishes committed outbox rows, two ways:
 *
 * - fast path: a transaction run by `relay.transaction()` hands its outbox rows over when it
 *   commits; the rows, already in memory, are sent as one producer batch. The next such
 *   transaction deletes them by id in its own outbox insert (one statement, no round trip of its
 *   own); if none comes within `sweepDelayMs` the relay deletes them. No claim query, no
 *   transaction of its own: a consumer batch costs one send. Until they are deleted, claim rounds
 *   skip them, so each goes out once.
 * - claim rounds (the backstop, and `wake()`): claims the oldest `batchSize` rows (FOR UPDATE SKIP
 *   LOCKED, skipping rows queued on the fast path), sends them, and deletes them in the same
 *   transaction, which commits only after Kafka acknowledged. A poll runs one every
 *   `pollIntervalMs`; rounds loop while full batches keep coming. Safe with several instances.
 *
 * If a send fails the rows stay in the outbox and the relay backs off; until claim rounds have
 * published every row left behind, fast-path rows wait behind them, so a saga's messages keep
 * their order. A crash between a send and its delete publishes the rows again (the inboxes drop
 * them); a row is never deleted before Kafka acknowledged it.
 *
 * @example
 * const relay = new OutboxRelay({ db, producer: broker.producer(), logger });
 * relay.start();
 * await relay.transaction(async (tx, enqueue) => enqueue(messages));
 */
export class OutboxRelay {
  private readonly db: Database;
  private readonly producer: MessageProducer;
  private readonly logger: Logger;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly retentionDays: number;
  private readonly retentionIntervalMs: number;
  private readonly drainTimeoutMs: number;
  private readonly sweepDelayMs: number;

  private started = false;
  private stopped = false;
  private round: Promise<void> | null = null;
  private again = false;
  /** A claim round is wanted (wake(), the poll), not only the fast path. */
  private claimWanted = false;
  /** Ids written by transactions in flight that hand them to the fast path (see `transaction`). */
  private readonly reserved = new Set<number>();
  /** Ids of `reserved` that a claim round took meanwhile: the fast path skips them. */
  private readonly claimed = new Set<number>();
  /** Committed rows handed over by `transaction`, in commit order, not yet sent. */
  private fresh: EnqueuedOutbox[] = [];
  /** Published on the fast path, not deleted yet: the next `transaction` (or the sweep) deletes them. */
  private sent: number[] = [];
  /** Of `sent`, the ids a transaction in flight deletes: back to `sent` if it does not commit. */
  private readonly deleting = new Set<number>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  /** A send failed: rows may be left behind, claim rounds must drain them before the fast path goes on. */
  private behind = false;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private pausedUntil = 0;
  private lastRetentionAt = 0;
  private retention: Promise<void> | null = null;
  private published = 0;
  private readonly service: string;
  private unregisterBacklog: (() => void) | null = null;

  constructor(o: OutboxRelayOptions) {
    this.db = o.db;
    this.producer = o.producer;
    this.logger = o.logger.child({ component: 'outbox-relay' });
    this.service = serviceLabel(o.logger);
    this.batchSize = o.batchSize ?? 500;
    this.pollIntervalMs = o.pollIntervalMs ?? 250;
    this.retentionDays = o.inboxRetentionDays ?? 7;
    this.retentionIntervalMs = o.inboxRetentionIntervalMs ?? 3_600_000;
    this.drainTimeoutMs = o.drainTimeoutMs ?? 5_000;
    this.sweepDelayMs = o.sweepDelayMs ?? 50;
  }

  /** Starts polling and publishes what is already waiting. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.unregisterBacklog = METRICS.outboxBacklog.register(async (set) => set({ service: this.service }, await this.backlog()));
    this.lastRetentionAt = Date.now();
    this.timer = setInterval(() => this.tick(), this.pollIntervalMs);
    this.timer.unref();
    this.wake();
  }

  /** Asks for a claim round now (cheap; call it after a commit that enqueued messages). */
  wake(): void {
    this.claimWanted = true;
    this.kick();
  }

  /**
   * Runs `work` in a transaction whose outbox rows (written through `enqueue`) go out on the fast
   * path once it commits. Until then no claim round takes them, so they are sent once.
   *
   * @example
   * await relay.transaction(async (tx, enqueue) => {
   *   await tx.query('UPDATE orders SET status = $1 WHERE id = $2', ['PLACED', id]);
   *   await enqueue([toTopic(TOPICS.orderEvents, env)]);
   * });
   */
  async transaction<T>(work: (tx: Transaction, enqueue: (messages: readonly OutgoingMessage[]) => Promise<void>) => Promise<T>): Promise<T> {
    const written: EnqueuedOutbox[] = [];
    // Rows published earlier ride along: the first outbox insert of this transaction deletes them.
    let deletes: number[] = [];
    try {
      const result = await this.db.transaction((tx) =>
        work(tx, async (messages) => {
          const alsoDelete = messages.length > 0 && deletes.length === 0 ? this.takeSent() : [];
          if (alsoDelete.length > 0) deletes = alsoDelete;
          const w = await enqueueOutbox(tx, messages, alsoDelete);
          for (const id of w.ids) this.reserved.add(id);
          written.push(w);
        }),
      );
      for (const id of deletes) this.deleting.delete(id);
      for (const w of written) this.handOver(w);
      return result;
    } catch (err) {
      // Not deleted after all (or maybe deleted: a second delete is harmless).
      this.deleteLater(deletes);
      // Rolled back, or its commit's outcome unknown: if the rows exist, the claim rounds send them.
      for (const w of written) {
        for (const id of w.ids) {
          this.reserved.delete(id);
          this.claimed.delete(id);
        }
      }
      throw err;
    }
  }

  /** Rows that a transaction just committed go to the fast path. */
  private handOver(committed: EnqueuedOutbox): void {
    for (const id of committed.ids) this.reserved.delete(id);
    const written = without(committed, this.claimed);
    for (const id of committed.ids) this.claimed.delete(id);
    if (written.ids.length === 0 || !this.started || this.stopped) return;
    if (this.fresh.reduce((n, b) => n + b.ids.length, 0) >= MAX_FRESH) {
      // The broker is away or slow: leave them to the claim rounds, which read them from the table,
      // and send nothing newer on the fast path before those (per-key order).
      this.behind = true;
    } else {
      this.fresh.push(written);
    }
    this.kick();
  }

  private kick(): void {
    if (!this.started || this.stopped) return;
    if (this.round) {
      this.again = true;
      return;
    }
    if (Date.now() < this.pausedUntil) return; // backing off after a failure; the poll retries
    this.round = this.run();
  }

  /**
   * Stops polling, waits for the round in flight, then drains the outbox within `drainTimeoutMs`
   * (what is left is published by the next instance or the next start: nothing is lost either way).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unregisterBacklog?.();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.round;
    await this.retention;
    await this.sweep();
    if (this.started && this.drainTimeoutMs > 0) await this.drain(Date.now() + this.drainTimeoutMs);
  }

  private async drain(deadline: number): Promise<void> {
    let drained = 0;
    this.fresh = []; // the claim rounds below take them, in id order
    try {
      for (let n = -1; n !== 0 && Date.now() < deadline; drained += n) n = await this.publishRound();
    } catch (err) {
      this.logger.warn({ err, drained }, 'outbox drain at shutdown stopped; the rest is published on the next start');
      return;
    }
    if (drained > 0) this.logger.info({ drained }, 'outbox drained at shutdown');
  }

  /** Rows waiting to be published (outbox lag). */
  async backlog(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox');
    return rows[0].n;
  }

  /**
   * A readiness probe: throws when more than `max` messages wait to be published (the broker is
   * away, or the relay cannot keep up), naming the backlog.
   *
   * @example
   * readiness.probe('outbox', () => relay.checkBacklog());
   */
  async checkBacklog(max = OUTBOX_READY_MAX_BACKLOG): Promise<number> {
    const n = await this.backlog();
    if (n > max) throw new Error(`${n} messages waiting to be published (more than ${max})`);
    return n;
  }

  /** Messages published by this instance since it started. */
  get publishedCount(): number {
    return this.published;
  }

  private tick(): void {
    this.wake();
    if (this.retentionDays > 0 && !this.retention && Date.now() - this.lastRetentionAt >= this.retentionIntervalMs) {
      this.lastRetentionAt = Date.now();
      this.retention = pruneInbox(this.db, this.retentionDays)
        .then((removed) => {
          if (removed > 0) this.logger.info({ removed, days: this.retentionDays }, 'inbox retention');
        })
        .catch((err: unknown) => this.logger.warn({ err }, 'inbox retention failed'))
        .finally(() => {
          this.retention = null;
        });
    }
  }

  private async run(): Promise<void> {
    try {
      do {
        this.again = false;
        if (this.behind || this.claimWanted) {
          this.claimWanted = false;
          // Loop while rounds come back full: more rows are waiting.
          let n = this.batchSize;
          while (!this.stopped && n === this.batchSize) n = await this.publishRound();
          this.behind = false; // a round that was not full took everything left behind
        }
        while (!this.stopped && this.fresh.length > 0) await this.publishFresh();
      } while (this.again && !this.stopped);
      this.failures = 0;
    } catch (err) {
      // The rows stay in the outbox; back off so an outage is not hammered by every wake().
      this.behind = true;
      this.failures++;
      const delay = Math.min(MAX_FAILURE_BACKOFF_MS, 50 * 2 ** Math.min(this.failures, 10));
      this.pausedUntil = Date.now() + delay;
      this.logger.warn({ err, failures: this.failures, retryInMs: delay }, 'outbox publish failed');
    } finally {
      this.round = null;
    }
  }

  /** Sends what the fast path holds as one producer batch; the next transaction or the sweep deletes it. */
  private async publishFresh(): Promise<void> {
    const batches = this.fresh.splice(0);
    const messages = batches.flatMap((b) => b.messages);
    await this.producer.send(messages);
    this.published += messages.length;
    this.observePublished(messages);
    this.deleteLater(batches.flatMap((b) => b.ids));
  }

  /** Published rows to delete: the next transaction takes them, or the sweep after `sweepDelayMs`. */
  private deleteLater(ids: readonly number[]): void {
    if (ids.length === 0) return;
    for (const id of ids) {
      this.deleting.delete(id);
      this.sent.push(id);
    }
    if (this.sweepTimer || this.stopped) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = null;
      void this.sweep();
    }, this.sweepDelayMs);
    this.sweepTimer.unref();
  }

  /** The published ids waiting for a delete, now marked as being deleted by the caller. */
  private takeSent(): number[] {
    const ids = this.sent;
    this.sent = [];
    for (const id of ids) this.deleting.add(id);
    return ids;
  }

  /** Deletes the published rows no transaction took (one statement). */
  private async sweep(): Promise<void> {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    await this.sweeping;
    const ids = this.takeSent();
    if (ids.length === 0) return;
    this.sweeping = this.db
      .query(DELETE_SENT_OUTBOX_SQL, [ids])
      .then(() => {
        for (const id of ids) this.deleting.delete(id);
      })
      .catch((err: unknown) => {
        // Not deleted: tried again later; until then claim rounds skip them (a crash re-publishes them,
        // which the inboxes absorb).
        this.logger.warn({ err, rows: ids.length }, 'outbox delete after publish failed');
        this.deleteLater(ids);
      })
      .finally(() => {
        this.sweeping = null;
      });
    await this.sweeping;
  }

  /**
   * A fast-path transaction that committed after this round read `queued` may have its rows in the
   * claim. They go out with the claim (which deletes them), so the fast path must not send them too.
   */
  private takeFromFastPath(claimedIds: readonly number[]): void {
    const taken = new Set(claimedIds.filter((id) => this.reserved.has(id)));
    for (const id of taken) this.claimed.add(id);
    const fresh = new Set(this.fresh.flatMap((b) => b.ids));
    for (const id of claimedIds) if (fresh.has(id)) taken.add(id);
    if (taken.size > 0) this.fresh = this.fresh.map((b) => without(b, taken));
  }

  /** One claim → send → delete → commit; returns the number of rows published. */
  private publishRound(): Promise<number> {
    // Rows of the fast path are not claimed (it sends them); left behind by a failure, they are
    // dropped from it and claimed here, in id order.
    if (this.behind) this.fresh = [];
    const queued = [...this.reserved, ...this.fresh.flatMap((b) => b.ids), ...this.sent, ...this.deleting];
    return this.db.transaction(async (tx) => {
      await tx.query(RELAY_LOCK_SQL);
      const { rows } = await tx.query<OutboxRow>(CLAIM_OUTBOX_SQL, [this.batchSize, queued]);
      const n = rows.length;
      if (n === 0) return 0;
      this.takeFromFastPath(rows.map((r) => Number(r.id)));
      // RETURNING has no order: restore the commit order of the ids.
      rows.sort((a, b) => a.id - b.id);
      const messages = new Array<OutgoingMessage>(n);
      for (let i = 0; i < n; i++) messages[i] = toOutgoing(rows[i]);
      await this.producer.send(messages);
      this.published += n;
      this.observePublished(messages);
      return n;
    });
  }

  /** Counted when sent; a delete lost in a crash re-sends, as the consumers' inboxes expect. */
  private observePublished(messages: readonly OutgoingMessage[]): void {
    const now = Date.now();
    const lag = METRICS.outboxPublishLag.labels({ service: this.service });
    const perTopic = new Map<string, number>();
    for (const m of messages) {
      perTopic.set(m.topic, (perTopic.get(m.topic) ?? 0) + 1);
      const written = Date.parse(m.envelope.occurredAt);
      if (Number.isFinite(written)) lag.observe(Math.max(0, now - written) / 1000);
    }
    for (const [topic, n] of perTopic) METRICS.outboxPublished.inc({ service: this.service, topic }, n);
  }
}

/** The batch without the rows whose ids are in `ids`. */
function without(batch: EnqueuedOutbox, ids: ReadonlySet<number>): EnqueuedOutbox {
  if (!batch.ids.some((id) => ids.has(id))) return batch;
  const keep = batch.ids.map((id) => !ids.has(id));
  return { ids: batch.ids.filter((_, i) => keep[i]), messages: batch.messages.filter((_, i) => keep[i]) };
}

function toOutgoing(row: OutboxRow): OutgoingMessage {
  const h = row.headers;
  const envelope: Envelope = envelopeFromHeaders((name) => h[name], row.payload);
  let extra: Record<string, string> | undefined;
  for (const name in h) {
    if (isEnvelopeHeader(name)) continue;
    (extra ??= {})[name] = h[name];
  }
  return extra ? { topic: row.topic, key: row.key, envelope, headers: extra } : { topic: row.topic, key: row.key, envelope };
}
