import { BaseEnvSchema, DbNameSchema } from '@saga/nest-kit';
import { z } from 'zod';

/** Configuration of the payment service, validated at start-up. */
export const PaymentEnvSchema = BaseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3003),
  DB_NAME: DbNameSchema.default('payment_db'),
  WALLET_URL: z.url().default('http://127.0.0.1:3004'),
  /** Timeout of one wallet call. */
  WALLET_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(800),
  /** Tries of one wallet call (first try included). */
  WALLET_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(4),
  /** Bound on all tries of one call, backoff included; then the outcome is WALLET_UNAVAILABLE. */
  WALLET_TOTAL_TIMEOUT_MS: z.coerce.number().int().min(10).max(120_000).default(3_000),
  /** First backoff delay (exponential, full jitter, capped at 1 s). */
  WALLET_BACKOFF_MS: z.coerce.number().int().min(0).max(10_000).default(100),
  /**
   * The longest a consumer batch waits for the wallet. Debits still out then are parked (PENDING)
   * and finished when the wallet answers, so a slow wallet does not hold the batch.
   */
  WALLET_HOLD_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
  /**
   * How long a parked payment waits for a busy wallet (every try timed out) before it fails with
   * WALLET_UNAVAILABLE; a wallet that refuses connections or answers 5xx fails it at once. Keep it
   * under the orchestrator's PAYMENT_TIMEOUT_MS.
   */
  WALLET_BUSY_MAX_MS: z.coerce.number().int().min(0).max(600_000).default(15_000),
  /** Most wallet calls in flight at once. */
  WALLET_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(64),
  /** How often the reconciler looks for due wallet reversals, and the parked-debit worker for due payments. */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(10).max(600_000).default(1_000),
  KAFKA_GROUP_ID: z.string().min(1).default('payment'),
  COMMANDS_TOPIC: z.string().min(1).default('payment.commands'),
  REPLIES_TOPIC: z.string().min(1).default('orchestrator.replies'),
  EVENTS_TOPIC: z.string().min(1).default('payment.events'),
});
export type PaymentEnv = z.infer<typeof PaymentEnvSchema>;
