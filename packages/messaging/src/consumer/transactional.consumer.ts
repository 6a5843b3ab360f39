import { ExponentialBackoff, handleWhen, retry, type RetryPolicy } from 'cockatiel';
import type { Logger } from 'pino';
import type { Database } from '@saga/postgres';
import { failSpan, METRICS, serviceLabel, SpanKind, startSpan, traceIdOf, traceparentOf, tracingEnabled, type Span } from '@saga/telemetry';
import { envelopeProblem } from '../envelope';
import { claimInbox, knownInInbox } from '../inbox/inbox.repository';
import type { OutboxRelay } from '../outbox/outbox.relay';
import { enqueueOutbox } from '../outbox/outbox.writer';
import type { IncomingMessage, MessageBroker, OutgoingMessage, Subscription, TransactionalBatchHandler } from '../ports';
import { deadLetter, describeError, isPoison } from './dead-letter';

export interface TransactionalConsumerOptions<C = void> {
  broker: MessageBroker;
  db: Database;
  relay: OutboxRelay;
  groupId: string;
  topics: readonly string[];
  logger: Logger;
  /** Runs BEFORE the transaction (e.g. HTTP calls), once per attempt, on the messages not known to the inbox. */
  prepare?: (messages: readonly IncomingMessage[]) => Promise<C>;
  /** Runs inside the transaction with the batch's new messages; returns what to publish. */
  handle: TransactionalBatchHandler<C>;
  /**
   * Runs once the transaction of a `handle` call committed, with what that call got and returned
   * (e.g. metrics of what is now durable; a rolled-back attempt never reaches it). Must not throw.
   */
  afterCommit?: (handled: readonly IncomingMessage[], published: readonly OutgoingMessage[]) => void;
  /**
   * Which well-formed messages this consumer acts on (default: all). The others are acknowledged
   * without a transaction or an inbox row, e.g. event types of a shared topic it does not use.
   */
  accepts?: (message: IncomingMessage) => boolean;
  /** Most messages per batch (default 500). */
  maxBatchSize?: number;
  /** Most batches handled at once (broker default; see SubscribeOptions.concurrency). */
  concurrency?: number;
  /** Tries of a whole batch before it is split (default 5). */
  batchAttempts?: number;
  /** Tries of one message, once split, before it is dead-lettered (default 3). */
  messageAttempts?: number;
  /** First retry delay (default 50 ms; exponential with jitter, at most 2 s). */
  retryInitialDelayMs?: number;
}

/**
 * Consumes `topics` as `groupId` with exactly-once effects on the service's database. Per batch:
 *
 * 1. messages with a malformed envelope (or value) go to `<topic>.dlq` at once;
 * 2. `prepare` runs outside any transaction;
 * 3. one transaction (`relay.transaction`): inbox (duplicates dropped) → `handle` → outbox →
 *    commit; the relay then sends what it wrote at once;
 * 4. the batch resolves, so the broker commits its offsets.
 *
 * A failing batch is retried with exponential backoff (bounded); then it is split and handled
 * message by message: the one that still fails is dead-lettered and recorded in the inbox, and the
 * others go on. A ZodError thrown by `handle` or `prepare` is poison: no retries.
 *
 * @example
 * const sub = await startTransactionalConsumer({
 *   broker, db, relay, logger, groupId: 'inventory', topics: [TOPICS.inventoryCommands],
 *   handle: perMessage(async (tx, m) => handler.handle(tx, m)),
 * });
 * await sub.ready;
 */
export async function startTransactionalConsumer<C = void>(o: TransactionalConsumerOptions<C>): Promise<Subscription> {
  const logger = o.logger.child({ component: 'transactional-consumer', groupId: o.groupId });
  const service = serviceLabel(o.logger);
  const transient = handleWhen((err) => !isPoison(err));
  // cockatiel counts retries, not tries
  const backoff = (tries: number) => ({
    maxAttempts: Math.max(0, tries - 1),
    backoff: new ExponentialBackoff({ initialDelay: o.retryInitialDelayMs ?? 50, maxDelay: 2_000 }),
  });
  const batchRetry: RetryPolicy = retry(transient, backoff(o.batchAttempts ?? 5));
  const messageRetry: RetryPolicy = retry(transient, backoff(o.messageAttempts ?? 3));
  batchRetry.onRetry((e) => logger.warn({ err: 'error' in e ? e.error : undefined, attempt: e.attempt, delayMs: e.delay }, 'batch failed; retrying'));

  /** One attempt: prepare, then inbox + handle + outbox in one transaction. */
  const attempt = async (messages: readonly IncomingMessage[]): Promise<void> => {
    let todo = messages;
    if (o.prepare) {
      // Skip known duplicates before side effects outside the transaction; the inbox insert below
      // still decides for real.
      const known = await knownInInbox(o.db, messages);
      if (known.size > 0) todo = messages.filter((m) => !known.has(m.envelope.id.toLowerCase()));
      if (todo.length === 0) return;
    }
    const context = (o.prepare ? await o.prepare(todo) : undefined) as C;
    // The relay's transaction: what it writes to the outbox is sent as soon as it commits.
    const done = await o.relay.transaction(async (tx, enqueue) => {
      const fresh = await claimInbox(tx, todo);
      if (fresh.length === 0) return null;
      const out = await o.handle(tx, fresh, context);
      await enqueue(out);
      return { fresh, out };
    });
    if (done === null) return;
    countPerTopic(done.fresh, (topic, n) => METRICS.messagesHandled.inc({ service, topic }, n));
    for (const m of done.fresh) {
      const e = m.envelope;
      // Debug, not info: ten lines per saga cost ~10% of the machine's CPU under load (ADR 10); the
      // saga's history and its trace keep the trail, failures are logged at warn/error.
      logger.debug({ sagaId: e.sagaId, correlationId: e.correlationId, messageId: e.id, type: e.type, topic: m.topic, traceId: traceIdOf(e.traceparent) }, 'message handled');
    }
    o.afterCommit?.(done.fresh, done.out);
  };

  /**
   * With tracing on, each message gets a consumer span, child of its envelope's traceparent; the
   * envelope then carries the span's own traceparent, so what the handler derives from it (replies,
   * commands, HTTP calls) joins the trace under this hop.
   */
  const traceBatch = (messages: readonly IncomingMessage[]): Map<IncomingMessage, Span> | undefined => {
    if (!tracingEnabled()) return undefined;
    const spans = new Map<IncomingMessage, Span>();
    for (const m of messages) {
      const e = m.envelope;
      const span = startSpan(service, `process ${e.type}`, SpanKind.CONSUMER, e.traceparent, {
        'messaging.system': 'kafka',
        'messaging.destination.name': m.topic,
        'messaging.message.id': e.id,
        'messaging.kafka.offset': Number(m.offset),
        'saga.id': e.sagaId,
        'saga.correlation_id': e.correlationId,
      });
      spans.set(m, span);
      const own = traceparentOf(span);
      if (own !== undefined) e.traceparent = own;
    }
    return spans;
  };

  const deadLetterAll = async (items: { m: IncomingMessage; reason: 'malformed' | 'poison' | 'failed'; err: string; name?: string }[]) => {
    const letters: OutgoingMessage[] = items.map((i) => deadLetter(i.m, i.reason, i.err, o.groupId, i.name));
    await o.db.transaction(async (tx) => {
      // A well-formed message is recorded in the inbox so a redelivery does not redo (or re-DLQ) it.
      const recordable = items.filter((i) => i.reason !== 'malformed').map((i) => i.m);
      const fresh = new Set(await claimInbox(tx, recordable));
      await enqueueOutbox(
        tx,
        letters.filter((_, k) => items[k].reason === 'malformed' || fresh.has(items[k].m)),
      );
    });
    o.relay.wake();
    for (const i of items) {
      METRICS.deadLettered.inc({ service, topic: i.m.topic, reason: i.reason });
      logger.error(
        { topic: i.m.topic, partition: i.m.partition, offset: i.m.offset, messageId: i.m.envelope.id, type: i.m.envelope.type, reason: i.reason, error: i.err },
        'message dead-lettered',
      );
    }
  };

  const batchSize = METRICS.consumerBatchSize.labels({ service, group: o.groupId });
  const handler = async (batch: readonly IncomingMessage[]): Promise<void> => {
    batchSize.observe(batch.length);
    let valid: IncomingMessage[] = batch as IncomingMessage[];
    let malformed: { m: IncomingMessage; reason: 'malformed'; err: string }[] | undefined;
    for (let i = 0; i < batch.length; i++) {
      const m = batch[i];
      const problem = m.decodeError ?? envelopeProblem(m.envelope);
      if (problem === null) {
        if (malformed) valid.push(m);
        continue;
      }
      if (!malformed) {
        malformed = [];
        valid = batch.slice(0, i);
      }
      malformed.push({ m, reason: 'malformed', err: problem });
    }
    if (malformed) await deadLetterAll(malformed);
    if (o.accepts) valid = valid.filter(o.accepts);
    if (valid.length === 0) return;
    const spans = traceBatch(valid);
    try {
      await handleValid(valid, (m, err) => {
        const span = spans?.get(m);
        if (span) failSpan(span, err);
      });
    } finally {
      if (spans) for (const span of spans.values()) span.end();
    }
  };

  /** The batch, retried; then message by message, dead-lettering the ones that keep failing. */
  const handleValid = async (valid: IncomingMessage[], failed: (m: IncomingMessage, err: unknown) => void): Promise<void> => {
    try {
      await batchRetry.execute(() => attempt(valid));
      return;
    } catch (err) {
      if (valid.length === 1) {
        failed(valid[0], err);
        await deadLetterAll([{ m: valid[0], reason: isPoison(err) ? 'poison' : 'failed', err: describeError(err), name: errorName(err) }]);
        return;
      }
      logger.warn({ err, size: valid.length }, 'batch keeps failing; handling its messages one by one');
    }
    // Split: isolate the message(s) that fail; the others are handled in order.
    for (const m of valid) {
      try {
        await messageRetry.execute(() => attempt([m]));
      } catch (err) {
        failed(m, err);
        await deadLetterAll([{ m, reason: isPoison(err) ? 'poison' : 'failed', err: describeError(err), name: errorName(err) }]);
      }
    }
  };

  return o.broker.subscribe({
    groupId: o.groupId,
    topics: o.topics,
    handler,
    maxBatchSize: o.maxBatchSize,
    concurrency: o.concurrency,
  });
}

function countPerTopic(messages: readonly IncomingMessage[], add: (topic: string, n: number) => void): void {
  const counts = new Map<string, number>();
  for (const m of messages) counts.set(m.topic, (counts.get(m.topic) ?? 0) + 1);
  for (const [topic, n] of counts) add(topic, n);
}

function errorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : typeof err === 'object' && err !== null ? (err as { name?: string }).name : undefined;
}
