import { BaseEnvSchema } from '@saga/nest-kit';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { demoAccounts, UserAccountsSchema, type UserAccount } from './auth/users';

const Url = z.url().transform((u) => u.replace(/\/+$/, ''));
/** One base URL, or several comma-separated: the instances of a service, balanced round-robin. */
const UrlList = z
  .string()
  .transform((v) => v.split(',').map((u) => u.trim()).filter((u) => u !== ''))
  .pipe(z.array(Url).min(1, 'needs at least one URL'));
const Ms = z.coerce.number().int().positive();

/**
 * Configuration of the gateway, validated at start-up. It has no database and no Kafka: only the
 * services' base URLs, auth and rate limits.
 */
export const GatewayEnvSchema = BaseEnvSchema.pick({ LOG_LEVEL: true, HOST: true })
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    ORDER_URL: UrlList.default(['http://127.0.0.1:3001']),
    INVENTORY_URL: UrlList.default(['http://127.0.0.1:3002']),
    PAYMENT_URL: UrlList.default(['http://127.0.0.1:3003']),
    WALLET_URL: UrlList.default(['http://127.0.0.1:3004']),
    ORCHESTRATOR_URL: UrlList.default(['http://127.0.0.1:3005']),
    /** Calls that run a saga passed on at once (admission control); the rest wait at the gateway. */
    SAGA_ADMISSION_MAX: z.coerce.number().int().min(1).default(128),
    /** Calls that run a saga allowed to wait for admission; past it: 503 OVERLOADED with Retry-After. */
    SAGA_ADMISSION_QUEUE: z.coerce.number().int().min(0).default(4_096),
    /** Upstream timeout of ordinary calls. */
    PROXY_TIMEOUT_MS: Ms.default(5_000),
    /** Upstream timeout of calls that run a saga (the order service waits up to ORDER_WAIT_MS, 10 s). */
    SAGA_PROXY_TIMEOUT_MS: Ms.default(30_000),
    /**
     * Longest silence allowed on an event stream (`GET /api/orders/{id}/events`) before the gateway
     * gives up on it; the order service sends a heartbeat every 15 s, so this only catches a dead upstream.
     */
    STREAM_IDLE_TIMEOUT_MS: Ms.default(60_000),
    /**
     * Both modes need a token everywhere but login, the catalog, health, the API docs and the web UI.
     * demo: the demo logins exist and the seed `POST /orders` works without a token (acting as its
     * body's customer); required: only the accounts of AUTH_USERS / AUTH_USERS_FILE.
     */
    AUTH_MODE: z.enum(['demo', 'required']).default('demo'),
    /** The accounts, as JSON `[{username, role, passwordHash}]` (hashes from `npm run hash-password`); an operator among them. */
    AUTH_USERS: z.string().min(1).optional(),
    /** A file holding the AUTH_USERS JSON (a mounted secret); read at start-up. */
    AUTH_USERS_FILE: z.string().min(1).optional(),
    /** HS256 key (at least 32 characters). Required when AUTH_MODE=required; random per start in demo mode when unset. */
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    JWT_TTL_SECONDS: z.coerce.number().int().positive().default(3600),
    /** Requests per client and per route within RATE_LIMIT_WINDOW_MS. */
    RATE_LIMIT_MAX: z.coerce.number().int().positive().default(600),
    RATE_LIMIT_WINDOW_MS: Ms.default(60_000),
    /** Redis for rate-limit counters shared by every gateway instance; in memory when unset. */
    REDIS_URL: z.url().optional(),
    /** Prefix of the rate-limit keys in Redis (so several deployments or tests can share one Redis). */
    RATE_LIMIT_REDIS_PREFIX: z.string().min(1).default('gateway-rate-limit:'),
    /** How often the gateway polls each service's /health. */
    HEALTH_INTERVAL_MS: Ms.default(1_000),
  })
  .superRefine((env, ctx) => {
    if (env.AUTH_MODE === 'required' && env.JWT_SECRET === undefined) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'is required when AUTH_MODE=required' });
    }
    if (env.AUTH_USERS !== undefined && env.AUTH_USERS_FILE !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_USERS_FILE'], message: 'set AUTH_USERS or AUTH_USERS_FILE, not both' });
    }
    const accounts = configuredAccounts(env);
    if ('error' in accounts) ctx.addIssue({ code: 'custom', path: [accounts.path], message: accounts.error });
    else if (env.AUTH_MODE === 'required' && accounts.users === undefined) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_USERS'], message: 'is required when AUTH_MODE=required (or AUTH_USERS_FILE): the accounts, an operator among them' });
    }
  });
export type GatewayEnv = z.infer<typeof GatewayEnvSchema>;

/**
 * Who may log in: in demo mode the demo logins (and any configured account), in required mode only
 * the configured accounts (validated with the rest of the configuration, so this cannot throw then).
 */
export function gatewayAccounts(env: GatewayEnv): UserAccount[] {
  const accounts = configuredAccounts(env);
  if ('error' in accounts) throw new Error(`invalid configuration: ${accounts.path} ${accounts.error}`);
  return env.AUTH_MODE === 'demo' ? [...demoAccounts(), ...(accounts.users ?? [])] : (accounts.users ?? []);
}

/** The accounts of AUTH_USERS or AUTH_USERS_FILE, parsed and validated; undefined when neither is set. */
function configuredAccounts(env: { AUTH_USERS?: string; AUTH_USERS_FILE?: string }): { users: UserAccount[] | undefined } | { error: string; path: string } {
  const path = env.AUTH_USERS_FILE !== undefined ? 'AUTH_USERS_FILE' : 'AUTH_USERS';
  let text = env.AUTH_USERS;
  if (env.AUTH_USERS_FILE !== undefined) {
    try {
      text = readFileSync(env.AUTH_USERS_FILE, 'utf8');
    } catch (err) {
      return { error: `cannot read ${env.AUTH_USERS_FILE}: ${(err as Error).message}`, path };
    }
  }
  if (text === undefined) return { users: undefined };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: 'is not JSON: expected [{"username", "role", "passwordHash"}]', path };
  }
  const parsed = UserAccountsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('');
    return { error: `${where === '' ? '' : `${where}: `}${issue.message}`, path };
  }
  return { users: parsed.data };
}
