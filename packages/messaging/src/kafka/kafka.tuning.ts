/**
 * Client settings that decide how long a broker's or a group member's death stalls the services
 * (ADR 13). The library's defaults (5 s connect and request timeouts, 3 retries 1 s apart, then a
 * torn-down consumer stream reopened 1, 2, 4... s later) stalled completed sagas 8.6–16.7 s when one
 * broker of three was killed; these retry quickly and often enough to outlast a leader election.
 */

/** Retry delay of attempt n (1-based): 100, 200, 400 ms, then 500 ms apart. */
export function kafkaRetryDelay(_client: unknown, _operation: string, attempt: number): number {
  return Math.min(500, 100 * 2 ** Math.max(0, attempt - 1));
}

/**
 * Connection and retry options of every client (producer, consumer). Twelve retries 100–500 ms apart
 * span about 5 s: longer than the cluster's broker session timeout (3 s, after which the controller
 * moves a dead broker's leaderships), and a produce retried after a network error refreshes the
 * metadata first, so it reaches the new leader as soon as there is one.
 *
 * @example
 * new Producer({ clientId, bootstrapBrokers, ...KAFKA_CLIENT_OPTIONS });
 */
export const KAFKA_CLIENT_OPTIONS = {
  /** A dead host on a real network answers nothing: give up on a connect after 3 s, not 5. */
  connectTimeout: 3_000,
  retries: 12,
  retryDelay: kafkaRetryDelay,
} as const;

/**
 * A consumer's fetch goes to one broker and its retries stay there: the sooner it gives up, the
 * sooner the stream is reopened on fresh metadata (the new leader). Four retries ≈ 1.2 s.
 */
export const KAFKA_CONSUMER_RETRIES = 4;

/** First delay before a torn-down consumer stream is reopened, and the most it grows to. */
export const KAFKA_REOPEN_DELAY_MS = 200;
export const KAFKA_MAX_REOPEN_DELAY_MS = 5_000;

/**
 * Group session timeout (how long a member that vanished, e.g. kill -9, keeps its partitions) from
 * KAFKA_SESSION_TIMEOUT_MS, default 10 s. The brokers must allow it (group.min.session.timeout.ms,
 * 6 s by default; 1 s on `npm run start:cluster`'s nodes, which run the services with 3 s).
 *
 * @example
 * kafkaSessionTimeoutMs({ KAFKA_SESSION_TIMEOUT_MS: '3000' }) === 3000
 */
export function kafkaSessionTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.KAFKA_SESSION_TIMEOUT_MS;
  if (raw === undefined || raw.trim() === '') return 10_000;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1_000 || n > 300_000) throw new Error(`KAFKA_SESSION_TIMEOUT_MS must be an integer in 1000..300000 (ms), got "${raw}"`);
  return n;
}

/** Heartbeat interval for a session timeout: a sixth of it, at most 1 s (a rebalance is noticed within it). */
export function kafkaHeartbeatIntervalMs(sessionTimeoutMs: number): number {
  return Math.max(100, Math.min(1_000, Math.floor(sessionTimeoutMs / 6)));
}
