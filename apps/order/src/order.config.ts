import { BaseEnvSchema, DbNameSchema } from '@saga/nest-kit';
import { z } from 'zod';

/** Configuration of the order service, validated at start-up. */
export const OrderEnvSchema = BaseEnvSchema.extend({
  PORT: z.coerce.number().int().min(1).max(65535).default(3001),
  DB_NAME: DbNameSchema.default('order_db'),
  KAFKA_GROUP_ID: z.string().min(1).default('order'),
  INVENTORY_URL: z.url().default('http://127.0.0.1:3002'),
  /** The wallet service, asked once per customer whether the customer exists. */
  WALLET_URL: z.url().default('http://127.0.0.1:3004'),
  /** How long a saga-starting HTTP call waits before answering 202. */
  ORDER_WAIT_MS: z.coerce.number().int().min(0).default(10_000),
  /** How long an INITIATED order may stay unpaid before it is canceled. */
  ORDER_EXPIRY_MS: z.coerce.number().int().min(1000).default(30 * 60_000),
  /** How long an Idempotency-Key of a saga-starting call is kept (24 h); a repeat after that is a new request. */
  IDEMPOTENCY_KEY_TTL_MS: z.coerce.number().int().min(1000).default(24 * 60 * 60_000),
  /** Comment lines an order event stream sends while idle, so proxies keep it open. */
  SSE_HEARTBEAT_MS: z.coerce.number().int().min(100).default(15_000),
  /** An event stream also re-reads its order this often, in case a notification was missed. */
  SSE_REREAD_MS: z.coerce.number().int().min(100).default(5_000),
  /** How long a price read from the service's copy of the catalog is kept in memory. */
  CATALOG_CACHE_MS: z.coerce.number().int().min(0).default(5_000),
});
export type OrderEnv = z.infer<typeof OrderEnvSchema>;
