import { allTopics, TOPICS } from '@saga/contracts';
import { BaseEnvSchema, DbNameSchema } from '@saga/nest-kit';
import { z } from 'zod';
import { PLACE_ORDER_VERSIONS } from './place-order.saga';

const ms = (def: number) => z.coerce.number().int().min(1).default(def);

/** Configuration of the orchestrator, validated at start-up. */
export const OrchestratorEnvSchema = BaseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3005),
  DB_NAME: DbNameSchema.default('orchestrator_db'),
  /** Reply deadline of every step but the payment. */
  STEP_TIMEOUT_MS: ms(15_000),
  /** Payment deadline: longer than the payment service's bounded wallet retries (~3 s). */
  PAYMENT_TIMEOUT_MS: ms(20_000),
  /** Sends of a step's command before it fails with STEP_TIMEOUT. */
  STEP_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(3),
  /** First re-send delay (doubles per attempt). */
  RETRY_BACKOFF_MS: z.coerce.number().int().min(0).default(500),
  /** Sends of a compensation before the saga is COMPENSATION_FAILED. */
  COMPENSATION_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(5),
  TIMER_POLL_MS: ms(200),
  /** Partitions handled at once (each its own transaction), plus the poller, HTTP and the relay. */
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  DB_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(16),
  /** Kafka consumer group; a private one (with private source topics) isolates a test run. */
  KAFKA_GROUP_ID: z.string().min(1).default('orchestrator'),
  /** Where saga-starting order events and participants' replies are read from. */
  ORDER_EVENTS_TOPIC: z.string().min(1).default(TOPICS.orderEvents),
  REPLIES_TOPIC: z.string().min(1).default(TOPICS.orchestratorReplies),
  /** Dead-letter topics read into the dead_letters table (comma separated; default every `*.dlq` of DESIGN §4). */
  DEAD_LETTER_TOPICS: z
    .string()
    .default(allTopics().filter((t) => t.name.endsWith('.dlq')).map((t) => t.name).join(','))
    .transform((v) => v.split(',').map((t) => t.trim()).filter((t) => t.length > 0))
    .pipe(z.array(z.string()).min(1, 'needs at least one topic')),
  TIMER_BATCH_SIZE: z.coerce.number().int().min(1).max(5_000).default(200),
  /**
   * The place-order saga versions registered (comma separated, each one this build ships): new
   * sagas start on the highest, every saga advances on the version it started on, and a saga whose
   * version is left out waits, flagged (versionMissing), until it is listed again. Default 1, the
   * saga of DESIGN §2; `1,2` runs v2 (one more step) for new sagas while v1 sagas finish on v1.
   */
  PLACE_ORDER_SAGA_VERSIONS: z
    .string()
    .default('1')
    .transform((v, ctx) => {
      const parts = v.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
      const versions = [...new Set(parts.map(Number))].sort((a, b) => a - b);
      const unknown = parts.filter((p) => !(PLACE_ORDER_VERSIONS as readonly number[]).includes(Number(p)));
      if (unknown.length > 0 || versions.length === 0) {
        ctx.addIssue({ code: 'custom', message: `needs one or more of ${PLACE_ORDER_VERSIONS.join(', ')} (comma separated); got "${v}"` });
        return z.NEVER;
      }
      return versions as (typeof PLACE_ORDER_VERSIONS)[number][];
    }),
  /** How often saga events parked for a missing definition version are looked at again. */
  PARKED_EVENTS_POLL_MS: ms(2_000),
});
export type OrchestratorEnv = z.infer<typeof OrchestratorEnvSchema>;
