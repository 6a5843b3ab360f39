import { BaseEnvSchema, DbNameSchema } from '@saga/nest-kit';
import { z } from 'zod';

/** Configuration of the inventory service, validated at start-up. */
export const InventoryEnvSchema = BaseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3002),
  DB_NAME: DbNameSchema.default('inventory_db'),
  /** Consumer group; tests use their own. */
  KAFKA_GROUP_ID: z.string().min(1).default('inventory'),
  /** Topic of the stock commands; tests use a private one. */
  COMMANDS_TOPIC: z.string().min(1).default('inventory.commands'),
  /** Topic of the replies; tests use a private one. */
  REPLIES_TOPIC: z.string().min(1).default('orchestrator.replies'),
});
export type InventoryEnv = z.infer<typeof InventoryEnvSchema>;
