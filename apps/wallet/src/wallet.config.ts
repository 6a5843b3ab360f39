import { BaseEnvSchema, DbNameSchema } from '@saga/nest-kit';
import { z } from 'zod';

/** Configuration of the wallet service, validated at start-up. */
export const WalletEnvSchema = BaseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3004),
  DB_NAME: DbNameSchema.default('wallet_db'),
  /** The hot path (internal debits) is one statement per call; enough connections for ~1000 calls/s. */
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(16),
});
export type WalletEnv = z.infer<typeof WalletEnvSchema>;
