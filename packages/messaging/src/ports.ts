import type { Envelope } from '@saga/contracts';
import type { Transaction } from '@saga/postgres';

/** A message as a consumer receives it. */
export interface IncomingMessage {
  topic: string;
  partition: number;
  /** Kafka offset as a decimal string. */
  offset: string;
  key: string;
  envelope: Envelope;
  /** Headers beyond the envelope's (e.g. the `dlq-*` headers of a dead letter); absent when none. */
  headers?: Readonly<Record<string, string>>;
  /** Set when the raw record could not be decoded (e.g. the value is not JSON); the envelope is then partial. */
  decodeError?: string;
}

/** A message to publish; `key` is the saga id. */
export interface OutgoingMessage {
  topic: string;
  key: string;
  envelope: Envelope;
  /** Extra headers sent next to the envelope's (e.g. the `dlq-*` headers of a dead letter). */
  headers?: Readonly<Record<string, string>>;
}

/** Publishes batches; resolves once every message is acknowledged (acks=all, idempotent). */
export interface MessageProducer {
  send(messages: readonly OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Handles one batch of messages (of one or more partitions, each in order). Resolving means the batch is durably
 * handled and its offsets may be committed; throwing means it is redelivered (bounded, then DLQ).
 */
export type BatchHandler = (batch: readonly IncomingMessage[]) => Promise<void>;

export interface SubscribeOptions {
  groupId: string;
  topics: readonly string[];
  handler: BatchHandler;
  /** Most messages per handler call (default 500). */
  maxBatchSize?: number;
  /**
   * Most batches handled at once (Kafka default 1: what arrives while a batch is handled coalesces
   * into the next one, so each batch's fixed costs are paid for more messages). A batch holds the
   * queued messages of every partition that has some, each partition in offset order; a partition
   * is never in two batches at once, so per-key order holds.
   */
  concurrency?: number;
}

export interface Subscription {
  /** Resolves once the consumer has joined its group and is fetching. */
  readonly ready: Promise<void>;
  /** Stops fetching, waits for the batch in hand, commits its offsets, leaves the group. */
  close(): Promise<void>;
}

/** The message bus port: Kafka in production, in-process for unit tests and the embedded mode. */
export interface MessageBroker {
  producer(): MessageProducer;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  close(): Promise<void>;
}

/**
 * The business part of a transactional consumer: given the batch's new messages (duplicates
 * already removed by the inbox), make the change through `tx` and return what to publish.
 * Runs inside the transaction that also records the inbox rows and the outbox rows.
 */
export type TransactionalBatchHandler<C = void> = (
  tx: Transaction,
  messages: readonly IncomingMessage[],
  context: C,
) => Promise<readonly OutgoingMessage[]>;
