/**
 * Starts the whole system for one end-to-end test file: every service its own process and its own
 * databases (`<prefix>_<service>_db`), on the real Kafka of KAFKA_BROKERS (a private broker started by
 * `npm test`) and the real PostgreSQL. Consumer groups keep their production names, so a stack resumes
 * where the previous test file's stack committed (a new group would replay every topic from the start).
 * Service logs go to .data/e2e-logs/<prefix>.log.
 */
import assert from 'node:assert/strict';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { REPO_ROOT } from '../../tools/kafka/kafka.ts';
import { checkInvariants, databaseNames, type CheckResult } from '../../tools/invariants/check.ts';
import { startStack, type Stack, type StackOptions } from '../../tools/stack/start.ts';
import { eventually, get, post } from './http.ts';
import { dropDatabase } from '@saga/postgres';
import { hashPassword } from '@saga/app-gateway';

/** What a saga scenario needs of a running system, whichever transport it runs on (Kafka or embedded). */
export interface SagaStack {
  /** Base URL of one service (`gateway` included). */
  url(name: string): string;
  /** Runs the invariant checker over the stack's data. */
  check(): Promise<CheckResult>;
  /** Waits until every saga that started has ended, then checks I1–I6. */
  settleAndCheck(timeoutMs?: number): Promise<CheckResult>;
  stop(): Promise<void>;
}

/** Anything that knows the services' URLs. */
export type ServiceUrls = Pick<SagaStack, 'url'>;

export interface TestStack extends Stack, SagaStack {
  prefix: string;
  logFile: string;
  /** Runs the invariant checker over this stack's databases. */
  check(): Promise<CheckResult>;
  /** Waits until every saga that started has ended and every outbox is drained, then checks I1–I6. */
  settleAndCheck(timeoutMs?: number): Promise<CheckResult>;
}

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432';

export async function startTestStack(name: string, env: Record<string, string> = {}, options: Pick<StackOptions, 'instances'> = {}): Promise<TestStack> {
  const prefix = `e2e_${name}_${Date.now().toString(36)}`;
  const portOffset = 10_000 + Math.floor(Math.random() * 400) * 10;
  mkdirSync(join(REPO_ROOT, '.data/e2e-logs'), { recursive: true });
  const logFile = join(REPO_ROOT, '.data/e2e-logs', `${prefix}.log`);
  const log = createWriteStream(logFile);
  const stack = await startStack({
    ...options,
    dbNamePrefix: prefix,
    portOffset,
    databaseUrl: DATABASE_URL,
    env: { LOG_LEVEL: 'info', ...env },
    // A line can arrive after the stack stopped (readline drains the pipes late): drop it then.
    output: (service, line) => {
      if (!log.writableEnded) log.write(`${service} ${line}\n`);
    },
    readyTimeoutMs: 60_000,
  });
  const check = () => checkInvariants({ serverUrl: DATABASE_URL, databases: databaseNames(prefix) });
  return {
    ...stack,
    url: stack.url,
    stopService: stack.stopService,
    startService: stack.startService,
    stop: async () => {
      await stack.stop();
      log.end();
      // The logs stay in .data/e2e-logs; the databases go, so test runs do not pile them up.
      await Promise.all(Object.values(databaseNames(prefix)).map((name) => dropDatabase(DATABASE_URL, name)));
    },
    prefix,
    logFile,
    check,
    async settleAndCheck(timeoutMs = 60_000) {
      let last: CheckResult | undefined;
      await eventually(async () => {
        last = await check();
        return last.ok;
      }, timeoutMs, 250).catch(() => undefined);
      return last ?? (await check());
    },
  };
}

/** Tries of the payment service's wallet calls under WALLET_RETRY_ENV. */
export const WALLET_MAX_ATTEMPTS = 3;
/** A small retry bound on wallet calls keeps a wallet outage short: 3 tries, 50 ms first backoff, 2 s in all. */
export const WALLET_RETRY_ENV = {
  WALLET_MAX_ATTEMPTS: String(WALLET_MAX_ATTEMPTS),
  WALLET_BACKOFF_MS: '50',
  WALLET_TIMEOUT_MS: '500',
  WALLET_TOTAL_TIMEOUT_MS: '2000',
  RECONCILE_INTERVAL_MS: '200',
};

/** AUTH_USERS of a gateway with these accounts (customers unless a role is given), passwords hashed as in production. */
export function authUsers(logins: readonly { username: string; password: string; role?: 'customer' | 'operator' }[]): string {
  return JSON.stringify(logins.map((l) => ({ username: l.username, role: l.role ?? (l.username === 'operator' ? 'operator' : 'customer'), passwordHash: hashPassword(l.password) })));
}

/** DESIGN §3's seed catalog, as written there: what a fresh start must serve, field by field. */
export const DESIGN_CATALOG = [
  { id: 'P001', name: 'Laptop', price: 999.99, available: 1 },
  { id: 'P002', name: 'Smartphone', price: 599.99, available: 100 },
  { id: 'P003', name: 'Wireless Headphones', price: 89.99, available: 75 },
  { id: 'P004', name: 'Smartwatch', price: 129.99, available: 30 },
  { id: 'P005', name: '4K Smart TV', price: 799.99, available: 20 },
  { id: 'P006', name: 'Gaming Console', price: 299.99, available: 40 },
  { id: 'P007', name: 'Coffee Maker', price: 49.99, available: 60 },
  { id: 'P008', name: 'Bluetooth Speaker', price: 69.99, available: 80 },
  { id: 'P009', name: 'Digital Camera', price: 449.99, available: 25 },
  { id: 'P010', name: 'Fitness Tracker', price: 79.99, available: 55 },
];

/** The catalog served at `base` (a fresh start) is DESIGN §3's, each product with a type. */
export async function assertDesignCatalog(base: string): Promise<void> {
  const res = await fetch(`${base}/api/products`);
  assert.equal(res.status, 200);
  const products = (await res.json()) as { id: string; name: string; type: string; price: number; available: number }[];
  assert.deepEqual(
    products.filter((p) => /^P0\d\d$/.test(p.id)).map(({ id, name, price, available }) => ({ id, name, price, available })),
    DESIGN_CATALOG,
  );
  for (const p of products) assert.match(p.type, /^[A-Z_]+$/, `${p.id} has a product type`);
}

/** The seed request of DESIGN §3, as the NestJS Kafka Saga README sends it. */
export const SEED_ORDER = {
  customerId: 'CUS_0001',
  orderItems: [{ productId: 'P001', quantity: 1, totalPrice: 999.99 }],
};

export async function balance(stack: ServiceUrls, customerId: string): Promise<number> {
  const res = await get(`${stack.url('wallet')}/api/wallets/${customerId}`);
  if (res.status !== 200) throw new Error(`wallet ${customerId}: ${res.status}`);
  return res.body.balance;
}

export async function available(stack: ServiceUrls, productId: string): Promise<number> {
  const res = await get(`${stack.url('inventory')}/api/products/${productId}`);
  if (res.status !== 200) throw new Error(`product ${productId}: ${res.status}`);
  return res.body.available;
}

/** A product and a wallet of the test's own, so a test never depends on the seed rows' state. */
export async function createProduct(stack: ServiceUrls, id: string, price: number, available: number): Promise<void> {
  const res = await post(`${stack.url('inventory')}/internal/products`, { id, name: `test ${id}`, type: 'TEST', price, available });
  if (res.status !== 201) throw new Error(`creating product ${id}: ${res.status} ${JSON.stringify(res.body)}`);
}

export async function createWallet(stack: ServiceUrls, customerId: string, balance: number): Promise<void> {
  const res = await post(`${stack.url('wallet')}/internal/wallets`, { customerId, balance });
  if (res.status !== 201) throw new Error(`creating wallet ${customerId}: ${res.status} ${JSON.stringify(res.body)}`);
}

/** Runs one SQL query on a service's database of this stack (for checks the APIs do not expose). */
export async function queryService<R = Record<string, unknown>>(stack: TestStack, service: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const url = new URL(DATABASE_URL);
  url.pathname = `/${stack.prefix}_${service}_db`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as R[];
  } finally {
    await client.end();
  }
}

/** The pino lines one service wrote so far to the stack's log file, parsed. */
export function serviceLog(stack: TestStack, service: string): Record<string, any>[] {
  const prefix = `${service} `;
  const out: Record<string, any>[] = [];
  for (const line of readFileSync(stack.logFile, 'utf8').split('\n')) {
    if (!line.startsWith(prefix) || line[prefix.length] !== '{') continue;
    try {
      out.push(JSON.parse(line.slice(prefix.length)) as Record<string, any>);
    } catch {
      // a line cut by a kill -9: skip it
    }
  }
  return out;
}
