import { Consumer, stringDeserializer, type Message, type MessagesStream } from '@platformatic/kafka';
import type { Logger } from 'pino';
import { METRICS, serviceLabel, type GaugeSetter } from '@saga/telemetry';
import type { BatchHandler, IncomingMessage, SubscribeOptions, Subscription } from '../ports';
import { decodeRecord } from './kafka.codec';
import {
  KAFKA_CLIENT_OPTIONS,
  KAFKA_CONSUMER_RETRIES,
  KAFKA_MAX_REOPEN_DELAY_MS,
  KAFKA_REOPEN_DELAY_MS,
  kafkaHeartbeatIntervalMs,
  kafkaSessionTimeoutMs,
} from './kafka.tuning';

type Record_ = Message<string, Buffer, string, string>;

export interface KafkaConsumerTuning {
  /** Group session timeout (default KAFKA_SESSION_TIMEOUT_MS or 10 s): how long a member that vanished keeps its partitions. */
  sessionTimeoutMs?: number;
  /** Heartbeat interval (default a sixth of the session timeout, at most 1 s): how fast a member notices a rebalance. */
  heartbeatIntervalMs?: number;
  /** Longest a fetch waits for data (default 500 ms); also bounds how long close() waits for a fetch. */
  maxWaitTimeMs?: number;
  /** Least time between two offset commits (default 100 ms); handled offsets wait for the next. */
  commitIntervalMs?: number;
  /**
   * Under load (the previous batch held at least 4 messages) a batch waits this long for more
   * before it starts (default 5 ms; 0 never waits). Idle, a message is handled at once.
   */
  lingerMs?: number;
}

/** One partition's queue: fetched messages wait here, batches leave in offset order. */
class PartitionLane {
  queue: Record_[] = [];
  /** Highest offset queued while owned: a re-fetch after a rebalance is skipped up to it. */
  lastQueued = -1n;
  /** Highest offset handed to the handler: everything up to it is handled or in hand. */
  lastTaken = -1n;
  /** Bumped when the partition is revoked; a batch taken under an older lease is not committed. */
  lease = 0;
  owned = true;
  running = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}
}

interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
}

const QUEUE_HIGH_WATER = 5_000;
/** A batch at least this big means the consumer is under load: the next one may linger. */
const LINGER_MIN_BATCH = 4;
const QUEUE_LOW_WATER = 1_000;
const MAX_REDELIVERY_DELAY_MS = 30_000;

/**
 * A consumer group member on Kafka. Records are queued per partition; every partition with queued
 * records joins the next batch (each partition in offset order, and in one batch at a time), up to
 * `concurrency` batches at once; under load a batch lingers `lingerMs` for more before it starts. A
 * partition's offset is committed (asynchronously, at most every
 * `commitIntervalMs`) only after its handler resolved; a handler that
 * throws gets the same batch again after a growing delay. A rebalance drops queued work of revoked
 * partitions and never commits for them; re-fetched records already queued are skipped.
 *
 * Built by {@link KafkaBroker.subscribe}.
 *
 * @example
 * const sub = await broker.subscribe({ groupId: 'inventory', topics: ['inventory.commands'], handler });
 * await sub.ready;
 */
export class KafkaSubscription implements Subscription {
  readonly ready: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;

  private readonly consumer: Consumer<string, Buffer, string, string>;
  private stream: MessagesStream<string, Buffer, string, string> | null = null;
  private readonly logger: Logger;
  private readonly handler: BatchHandler;
  private readonly topics: string[];
  private readonly maxBatchSize: number;
  private readonly concurrency: number;

  private readonly lanes = new Map<string, PartitionLane>();
  private readonly runnable: PartitionLane[] = [];
  private active = 0;
  private queued = 0;
  private pausedByUs = false;
  private idleWaiters: (() => void)[] = [];
  private readonly sleepers = new Set<() => void>();

  private readonly toCommit = new Map<string, OffsetToCommit>();
  private committing: Promise<void> | null = null;
  private commitTimer: NodeJS.Timeout | null = null;
  private lingerTimer: NodeJS.Timeout | null = null;
  private readonly lingerMs: number;
  /** Size of the last batch taken: a small one means no load, so no linger. */
  private lastBatchSize = 0;
  private lastCommitAt = 0;
  private readonly commitIntervalMs: number;

  private closing = false;
  private aborted = false;
  private closed: Promise<void> | null = null;
  private reopenTimer: NodeJS.Timeout | null = null;
  private reopenAttempts = 0;
  private readonly groupId: string;
  private readonly service: string;
  private unregisterLag: (() => void) | null = null;

  constructor(
    o: { brokers: string[]; clientId: string; logger: Logger } & KafkaConsumerTuning,
    s: SubscribeOptions,
    private readonly onClosed?: () => void,
  ) {
    this.handler = s.handler;
    this.topics = [...s.topics];
    this.maxBatchSize = s.maxBatchSize ?? 500;
    this.concurrency = s.concurrency ?? 1;
    this.commitIntervalMs = o.commitIntervalMs ?? 100;
    this.lingerMs = o.lingerMs ?? 5;
    this.logger = o.logger.child({ component: 'kafka-consumer', groupId: s.groupId });
    this.groupId = s.groupId;
    this.service = serviceLabel(o.logger);
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => undefined); // nobody awaiting ready must not crash the process
    const sessionTimeout = o.sessionTimeoutMs ?? kafkaSessionTimeoutMs();
    this.consumer = new Consumer({
      clientId: `${o.clientId}-${s.groupId}`,
      bootstrapBrokers: o.brokers,
      ...KAFKA_CLIENT_OPTIONS,
      // A fetch retries against one broker only: give up soon, so the stream reopens on the new leader.
      retries: KAFKA_CONSUMER_RETRIES,
      groupId: s.groupId,
      autocommit: false,
      sessionTimeout,
      rebalanceTimeout: Math.max(sessionTimeout, 20_000),
      heartbeatInterval: o.heartbeatIntervalMs ?? kafkaHeartbeatIntervalMs(sessionTimeout),
      maxWaitTime: o.maxWaitTimeMs ?? 500,
      // Bounded fetches: memory per fetch stays small and busy partitions do not starve the others.
      maxBytes: 8 * 1024 * 1024,
      maxBytesPerPartition: 1024 * 1024,
      deserializers: { key: stringDeserializer, headerKey: stringDeserializer, headerValue: stringDeserializer },
    });
    this.consumer.on('consumer:group:join', (p) => this.onAssignment(p.assignments ?? []));
    this.consumer.on('consumer:heartbeat:error', (p) => this.logger.debug({ err: p.error }, 'heartbeat error'));
  }

  /** Joins the group and starts fetching; `ready` resolves once partitions are assigned. */
  start(): void {
    this.unregisterLag = METRICS.consumerLag.register((set) => this.reportLag(set));
    void this.open();
  }

  /** Consumer lag of the partitions this member owns: log end offset − committed offset. */
  private async reportLag(set: GaugeSetter<'service' | 'group' | 'topic' | 'partition'>): Promise<void> {
    if (this.closing || !this.consumer.isActive()) return;
    const owned = [...this.lanes.values()].filter((l) => l.owned);
    if (owned.length === 0) return;
    const topics = [...new Set(owned.map((l) => l.topic))];
    const [ends, committed] = await Promise.all([
      this.consumer.listOffsets({ topics }),
      this.consumer.listCommittedOffsets({ topics: topics.map((topic) => ({ topic, partitions: owned.filter((l) => l.topic === topic).map((l) => l.partition) })) }),
    ]);
    for (const lane of owned) {
      const end = ends.get(lane.topic)?.[lane.partition];
      if (end === undefined) continue;
      const done = committed.get(lane.topic)?.[lane.partition];
      // Nothing committed yet (-1): the group starts from the earliest offset, taken as 0 here.
      const lag = end - (done === undefined || done < 0n ? 0n : done);
      set({ service: this.service, group: this.groupId, topic: lane.topic, partition: lane.partition }, Number(lag < 0n ? 0n : lag));
    }
  }

  /** Stops fetching, waits for the batches in hand, commits their offsets, leaves the group. */
  close(): Promise<void> {
    this.closed ??= this.shutdown(false);
    return this.closed;
  }

  /**
   * Stops at once like a crashed process would: batches in hand are left running but their
   * offsets are never committed, queued records are dropped, the group is left so another member
   * takes over without waiting for the session timeout. Their redelivery is what the inbox absorbs.
   */
  abort(): Promise<void> {
    this.aborted = true;
    this.closed ??= this.shutdown(true);
    return this.closed;
  }

  private async open(): Promise<void> {
    if (this.closing) return;
    try {
      const stream = await this.consumer.consume({
        topics: this.topics,
        mode: 'committed',
        fallbackMode: 'earliest',
        autocommit: false,
      });
      if (this.closing) {
        await stream.close().catch(() => undefined);
        return;
      }
      this.stream = stream;
      this.onAssignment(this.consumer.assignments ?? []);
      stream.on('data', (r: Record_) => this.enqueue(r));
      stream.on('error', (err) => this.logger.warn({ err }, 'consumer stream error'));
      stream.on('close', () => this.onStreamClosed(stream));
      if (this.pausedByUs) stream.pause();
      this.logger.info({ topics: this.topics, assignments: this.consumer.assignments }, 'consumer joined');
      this.reopenAttempts = 0;
      this.resolveReady();
    } catch (err) {
      if (this.closing) return;
      this.logger.warn({ err, retryInMs: this.reopenDelay() }, 'consumer could not join; retrying');
      this.scheduleReopen();
    }
  }

  private onStreamClosed(stream: MessagesStream<string, Buffer, string, string>): void {
    if (this.stream !== stream) return;
    this.stream = null;
    if (this.closing) return;
    // The library tears a stream down on some errors; start a new one from the committed offsets.
    this.logger.warn('consumer stream closed unexpectedly; reopening');
    for (const lane of this.lanes.values()) {
      // The new stream starts at the committed offsets: accept again what was queued but not taken.
      this.dropQueued(lane);
      lane.lastQueued = lane.lastTaken;
    }
    this.scheduleReopen();
  }

  private reopenDelay(): number {
    return Math.min(KAFKA_MAX_REOPEN_DELAY_MS, KAFKA_REOPEN_DELAY_MS * 2 ** Math.min(this.reopenAttempts, 10));
  }

  private scheduleReopen(): void {
    if (this.reopenTimer || this.closing) return;
    const delay = this.reopenDelay();
    this.reopenAttempts++;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = null;
      void this.open();
    }, delay);
  }

  private onAssignment(assignments: readonly { topic: string; partitions: number[] }[]): void {
    const owned = new Set<string>();
    for (const a of assignments) for (const p of a.partitions) owned.add(`${a.topic}:${p}`);
    const before = [...this.lanes.entries()].filter(([, l]) => l.owned).map(([k]) => k);
    if (before.length !== owned.size || before.some((k) => !owned.has(k))) {
      this.logger.info({ partitions: [...owned].sort() }, 'partitions assigned');
    }
    for (const [key, lane] of this.lanes) {
      if (owned.has(key)) continue;
      if (lane.owned) {
        lane.owned = false;
        lane.lease++;
        this.dropQueued(lane);
        lane.lastQueued = -1n;
        lane.lastTaken = -1n;
        this.toCommit.delete(key);
      }
      if (!lane.running) this.lanes.delete(key);
    }
    for (const key of owned) {
      const lane = this.lanes.get(key);
      if (lane) {
        if (!lane.owned) {
          lane.owned = true;
          lane.lastQueued = -1n;
        }
      } else {
        const i = key.lastIndexOf(':');
        this.lanes.set(key, new PartitionLane(key.slice(0, i), Number(key.slice(i + 1))));
      }
    }
    // Offsets held back during the rejoin can go now.
    if (this.toCommit.size > 0) this.flushCommits();
  }

  private enqueue(r: Record_): void {
    if (this.closing) return;
    const lane = this.lanes.get(`${r.topic}:${r.partition}`);
    if (!lane || !lane.owned) return; // stale fetch for a partition we no longer own
    if (r.offset <= lane.lastQueued) return; // re-fetched after a rebalance: already queued or handled
    lane.lastQueued = r.offset;
    lane.queue.push(r);
    this.queued++;
    if (this.queued >= QUEUE_HIGH_WATER && !this.pausedByUs) {
      this.pausedByUs = true;
      this.stream?.pause();
    }
    if (!lane.running) {
      lane.running = true;
      this.runnable.push(lane);
      // A fetch response is pushed synchronously: start after it so the batch holds all of it.
      queueMicrotask(() => this.pump());
    }
  }

  private dropQueued(lane: PartitionLane): void {
    this.queued -= lane.queue.length;
    lane.queue = [];
    this.maybeResume();
  }

  private maybeResume(): void {
    if (this.pausedByUs && this.queued <= QUEUE_LOW_WATER && !this.closing) {
      this.pausedByUs = false;
      this.stream?.resume();
    }
  }

  private pump(): void {
    // Under load (the last batch was not small) wait a moment for more: a batch's fixed costs (a
    // transaction, a produce, a fetch) are then paid for more messages. Idle, a message goes at once.
    if (this.lingerTimer) {
      if (this.queued < this.maxBatchSize) return; // a full batch need not wait
      clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
    } else if (this.lingerMs > 0 && this.lastBatchSize >= LINGER_MIN_BATCH && this.queued < this.maxBatchSize && this.active < this.concurrency && this.runnable.length > 0) {
      this.lastBatchSize = 0;
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = null;
        this.pump();
      }, this.lingerMs);
      return;
    }
    while (this.active < this.concurrency && this.runnable.length > 0) {
      // Every partition with work joins one batch: a few large transactions cost far less than
      // many small ones (each commit is an fsync), and each partition still stays in order.
      const lanes = this.runnable.splice(0, this.runnable.length);
      this.active++;
      void this.drain(lanes)
        .catch((err: unknown) => this.logger.error({ err, partitions: lanes.length }, 'batch worker failed'))
        .finally(() => {
          this.active--;
          for (const lane of lanes) {
            lane.running = false;
            if (!lane.owned && this.lanes.get(`${lane.topic}:${lane.partition}`) === lane) {
              this.lanes.delete(`${lane.topic}:${lane.partition}`);
            } else if (lane.queue.length > 0 && !this.closing) {
              lane.running = true;
              this.runnable.push(lane);
            }
          }
          if (this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
          this.pump();
        });
    }
  }

  /** Takes up to maxBatchSize queued records from these lanes, handles them as one batch, commits. */
  private async drain(lanes: readonly PartitionLane[]): Promise<void> {
    const parts: { lane: PartitionLane; lease: number; last: Record_ }[] = [];
    const batch: IncomingMessage[] = [];
    for (const lane of lanes) {
      const room = this.maxBatchSize - batch.length;
      if (room <= 0 || this.closing || !lane.owned || lane.queue.length === 0) continue;
      const records = lane.queue.length <= room ? lane.queue : lane.queue.slice(0, room);
      lane.queue = records === lane.queue ? [] : lane.queue.slice(records.length);
      this.queued -= records.length;
      const last = records[records.length - 1];
      lane.lastTaken = last.offset;
      parts.push({ lane, lease: lane.lease, last });
      for (const r of records) batch.push(decodeRecord(r));
    }
    this.maybeResume();
    this.lastBatchSize = batch.length;
    if (batch.length === 0) return;
    if (!(await this.deliver(batch))) return;
    for (const { lane, lease, last } of parts) {
      // A partition revoked meanwhile is not committed: its new owner redelivers, the inbox dedupes.
      if (lane.lease === lease && !this.aborted) this.commitLater(lane, last.offset + 1n, last.leaderEpoch);
    }
  }

  /** Calls the handler until it resolves; false if we are stopping. */
  private async deliver(batch: IncomingMessage[]): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.handler(batch);
        return true;
      } catch (err) {
        const delay = Math.min(MAX_REDELIVERY_DELAY_MS, 250 * 2 ** Math.min(attempt - 1, 10));
        this.logger.error(
          { err, topic: batch[0].topic, partition: batch[0].partition, offset: batch[0].offset, size: batch.length, attempt, retryInMs: delay },
          'batch handler failed; redelivering',
        );
        await this.sleep(delay);
        if (this.closing) return false;
      }
    }
  }

  /** A delay that close() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  private commitLater(lane: PartitionLane, offset: bigint, leaderEpoch: number): void {
    const key = `${lane.topic}:${lane.partition}`;
    const current = this.toCommit.get(key);
    if (!current || current.offset < offset) this.toCommit.set(key, { topic: lane.topic, partition: lane.partition, offset, leaderEpoch });
    this.scheduleCommit();
  }

  /**
   * Offsets go at most once per `commitIntervalMs`: each commit is a request the broker pays for
   * (an append to __consumer_offsets), and under load batches finish far more often than that.
   * Committing later only widens what a crash redelivers, which the inbox drops.
   */
  private scheduleCommit(): void {
    if (this.commitTimer || this.closing) return;
    const wait = Math.max(0, this.lastCommitAt + this.commitIntervalMs - Date.now());
    this.commitTimer = setTimeout(() => {
      this.commitTimer = null;
      void this.flushCommits();
    }, wait);
  }

  /** One commit request in flight at a time; offsets arriving meanwhile go in the next. */
  private flushCommits(): Promise<void> {
    if (this.committing) return this.committing;
    if (this.toCommit.size === 0 || this.aborted) return Promise.resolve();
    // Mid-rejoin a commit would fail and make the library rejoin once more; wait for the join.
    if (!this.consumer.isActive()) return Promise.resolve();
    const offsets = [...this.toCommit.values()];
    this.toCommit.clear();
    this.lastCommitAt = Date.now();
    this.committing = this.consumer
      .commit({ offsets })
      .catch((err: unknown) => {
        this.logger.warn({ err, partitions: offsets.length }, 'offset commit failed; will retry');
        for (const o of offsets) {
          const key = `${o.topic}:${o.partition}`;
          const lane = this.lanes.get(key);
          const newer = this.toCommit.get(key);
          if (lane?.owned && (!newer || newer.offset < o.offset)) this.toCommit.set(key, o);
        }
      })
      .finally(() => {
        this.committing = null;
        if (this.toCommit.size > 0) this.scheduleCommit();
      });
    return this.committing;
  }

  private async shutdown(abort: boolean): Promise<void> {
    this.closing = true;
    this.unregisterLag?.();
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.commitTimer = null;
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    for (const lane of this.lanes.values()) this.dropQueued(lane);
    this.runnable.length = 0;
    for (const wake of [...this.sleepers]) wake();
    this.rejectReady(new Error('subscription closed before it was ready'));
    if (!abort) {
      // Let the batches in hand finish, then commit what they handled.
      if (this.active > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
      await this.committing;
      for (let i = 0; i < 3 && this.toCommit.size > 0; i++) {
        await this.flushCommits();
        await this.committing;
      }
    }
    const stream = this.stream;
    this.stream = null;
    if (stream) await stream.close().catch((err: unknown) => this.logger.debug({ err }, 'stream close failed'));
    await this.consumer.close(true).catch((err: unknown) => this.logger.warn({ err }, 'consumer close failed'));
    this.logger.info({ aborted: abort }, 'consumer closed');
    this.onClosed?.();
  }
}
