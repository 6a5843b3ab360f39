import { dlqTopic } from '@saga/contracts';
import type { IncomingMessage, OutgoingMessage } from '../ports';

/**
 * Headers a dead letter carries next to the original envelope's.
 *
 * @example
 * const why = dead.headers?.[DLQ_HEADERS.error];
 */
export const DLQ_HEADERS = {
  /** What went wrong, human readable (error message or validation problems). */
  error: 'dlq-error',
  /** `malformed` (bad envelope or value), `poison` (handler rejected it as invalid) or `failed` (kept failing). */
  reason: 'dlq-reason',
  /** Error class name, when there was an exception. */
  errorName: 'dlq-error-name',
  originalTopic: 'dlq-original-topic',
  originalPartition: 'dlq-original-partition',
  originalOffset: 'dlq-original-offset',
  consumerGroup: 'dlq-consumer-group',
  failedAt: 'dlq-failed-at',
} as const;

export type DeadLetterReason = 'malformed' | 'poison' | 'failed';

const MAX_ERROR_LENGTH = 2_000;

/**
 * The dead letter of a message: same key, envelope and extra headers, on `<topic>.dlq`, plus
 * {@link DLQ_HEADERS} naming the error and where the message came from (for browsing and replay).
 *
 * @example
 * deadLetter(m, 'poison', 'payload.items: Required', 'inventory', 'ZodError')
 */
export function deadLetter(
  m: IncomingMessage,
  reason: DeadLetterReason,
  error: string,
  groupId: string,
  errorName?: string,
): OutgoingMessage {
  const headers: Record<string, string> = {
    ...m.headers,
    [DLQ_HEADERS.error]: error.length > MAX_ERROR_LENGTH ? `${error.slice(0, MAX_ERROR_LENGTH)}…` : error,
    [DLQ_HEADERS.reason]: reason,
    [DLQ_HEADERS.originalTopic]: m.topic,
    [DLQ_HEADERS.originalPartition]: String(m.partition),
    [DLQ_HEADERS.originalOffset]: m.offset,
    [DLQ_HEADERS.consumerGroup]: groupId,
    [DLQ_HEADERS.failedAt]: new Date().toISOString(),
  };
  if (errorName) headers[DLQ_HEADERS.errorName] = errorName;
  return { topic: dlqTopic(m.topic), key: m.key, envelope: m.envelope, headers };
}

/**
 * True for an error that no retry can fix: a ZodError (the message does not match its schema).
 *
 * @example
 * isPoison(MESSAGE_SCHEMAS.ReserveStock.safeParse({}).error) === true
 */
export function isPoison(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { name?: unknown }).name === 'ZodError' &&
    Array.isArray((err as { issues?: unknown }).issues)
  );
}

/**
 * A one-line description of an error for the `dlq-error` header (a ZodError lists its paths).
 *
 * @example
 * describeError(new Error('boom')) === 'boom'
 */
export function describeError(err: unknown): string {
  if (isPoison(err)) {
    const issues = (err as { issues: { path: PropertyKey[]; message: string }[] }).issues;
    return issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
  }
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
