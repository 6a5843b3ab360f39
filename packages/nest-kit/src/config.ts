import { z } from 'zod';
import { describeZodIssue } from './parse-with';

/**
 * Environment every service reads. Services extend it with their own variables and override
 * `PORT` and `DB_NAME` with their defaults.
 *
 * @example
 * const WalletEnvSchema = BaseEnvSchema.extend({
 *   PORT: z.coerce.number().int().min(0).max(65535).default(3004),
 *   DB_NAME: DbNameSchema.default('wallet_db'),
 * });
 */
export const DbNameSchema = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier');

export const BaseEnvSchema = z.object({
  /** Server URL; each service uses its own database on it (DB_NAME). */
  DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432'),
  /** Comma-separated bootstrap brokers. */
  KAFKA_BROKERS: z.string().min(1).default('127.0.0.1:19092'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535),
  DB_NAME: DbNameSchema,
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
});

/**
 * Validates the environment at start-up and fails fast with one line per bad variable, e.g.
 * `invalid configuration: PORT must be at most 65535 (got "70000")`.
 *
 * @example
 * const env = loadConfig(WalletEnvSchema); // env.PORT is a number
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env, { error: describeZodIssue });
  if (result.success) return result.data as z.infer<S>;
  const lines = result.error.issues.map((issue) => {
    const name = issue.path.map(String).join('.') || '(environment)';
    const raw = issue.path.length > 0 ? env[String(issue.path[0])] : undefined;
    return raw === undefined ? `${name} is required (not set)` : `${name} ${issue.message} (got ${JSON.stringify(raw)})`;
  });
  throw new Error(`invalid configuration: ${lines.join('; ')}`);
}

/** Splits `KAFKA_BROKERS`. @example brokerList('a:9092, b:9092') // ['a:9092', 'b:9092'] */
export function brokerList(value: string): string[] {
  return value
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}
