// `npm start`: the zero-infrastructure quick-start. Every service (order, inventory, payment, wallet,
// orchestrator and the gateway on :3000) in this one process, on one PGlite database (a schema per
// service, persisted under EMBEDDED_DATA_DIR) and a durable in-process message log (schema `bus`).
// Each service still listens on its own port and they talk HTTP as in the Kafka stack, so the public
// API on :3000 is the same in both modes. Ctrl-C / SIGTERM stops everything cleanly.
//
// Env: EMBEDDED_DATA_DIR (.data/embedded), STACK_PORT_OFFSET (0), STACK_LOG_FORMAT (pretty | json),
// LOG_LEVEL, plus anything the services read (AUTH_MODE, ORDER_WAIT_MS, ...).
import 'reflect-metadata';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { GatewayEnvSchema, DEMO_LOGINS, startGateway, type GatewayEnv } from '@saga/app-gateway';
import { InventoryEnvSchema, startInventory } from '@saga/app-inventory';
import { OrchestratorEnvSchema, startOrchestrator } from '@saga/app-orchestrator';
import { OrderEnvSchema, startOrder } from '@saga/app-order';
import { PaymentEnvSchema, startPayment } from '@saga/app-payment';
import { WalletEnvSchema, startWallet } from '@saga/app-wallet';
import { DatabaseLogBroker } from '@saga/messaging';
import { createLogger, loadConfig } from '@saga/nest-kit';
import { openPglite, PgliteDatabase, PgliteNotifications } from '@saga/postgres';
import { REPO_ROOT, isAlive, portInUse } from '../kafka/kafka.ts';
import { SERVICES, makePrinter, type StackOutput } from '../stack/start.ts';
import { BUS_SCHEMA, PGLITE_DIR, PID_FILE, embeddedDataDir } from './layout.ts';

const HOST = '127.0.0.1';
/** Small: the quick-start's data fits, and each MB of buffers is resident memory. */
const SHARED_BUFFERS = '16MB';

export interface EmbeddedOptions {
  /** Default EMBEDDED_DATA_DIR or .data/embedded. */
  dataDir?: string;
  /** Added to every default port (3000–3005). */
  portOffset?: number;
  /** Env for every service, on top of process.env. */
  env?: Record<string, string>;
  output?: StackOutput;
}

export interface RunningEmbedded {
  /** Base URL of each service, gateway included. */
  urls: Record<string, string>;
  dataDir: string;
  /** Whether this start created the database (first start). */
  created: boolean;
  /** The gateway's AUTH_MODE: the demo logins exist only in demo mode. */
  authMode: 'demo' | 'required';
  startedInMs: number;
  /** Stops every service in reverse start order, then the log and the database. */
  stop(): Promise<void>;
}

/**
 * Starts the whole system in this process and resolves once every service listens.
 *
 * @example
 * const system = await startEmbedded({ portOffset: 200, dataDir: '/tmp/x' });
 * await fetch(`${system.urls.gateway}/orders`, ...);
 * await system.stop();
 */
export async function startEmbedded(o: EmbeddedOptions = {}): Promise<RunningEmbedded> {
  const t0 = performance.now();
  const dataDir = resolve(o.dataDir ?? embeddedDataDir());
  const offset = o.portOffset ?? 0;
  const portOf = (name: string): number => (SERVICES.find((s) => s.name === name)?.port ?? NaN) + offset;
  const busy: string[] = [];
  for (const spec of SERVICES) if (await portInUse(portOf(spec.name))) busy.push(`${spec.name} ${HOST}:${portOf(spec.name)}`);
  if (busy.length > 0) throw new Error(`port(s) already in use: ${busy.join(', ')} (another stack running? set STACK_PORT_OFFSET)`);

  // PGlite is one process's database: a second process on the same directory would corrupt it.
  mkdirSync(dataDir, { recursive: true });
  const pidFile = join(dataDir, PID_FILE);
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) throw new Error(`${dataDir} is in use by process ${pid} (another npm start?)`);
  }
  writeFileSync(pidFile, `${process.pid}\n`);
  const created = !existsSync(join(dataDir, PGLITE_DIR, 'PG_VERSION'));

  const print = makePrinter(o.output ?? 'inherit', SERVICES.map((s) => s.name));
  const loggerOf = (service: string, level: string) =>
    createLogger(service, level, { write: (line: string) => print(service, line.replace(/\n$/, '')) });
  const envOf = (name: string): NodeJS.ProcessEnv => {
    const links: Record<string, string> = {};
    for (const [variable, target] of Object.entries(SERVICES.find((s) => s.name === name)?.links ?? {})) links[variable] = `http://${HOST}:${portOf(target)}`;
    return { ...process.env, HOST, ...links, ...o.env, PORT: String(portOf(name)) };
  };

  const pg = await openPglite(join(dataDir, PGLITE_DIR), { sharedBuffers: SHARED_BUFFERS });
  const stops: { name: string; stop: () => Promise<void> }[] = [];
  let gateway: GatewayEnv | undefined;
  const stopAll = async (): Promise<void> => {
    for (const { name, stop } of stops.reverse()) {
      await stop().catch((err: unknown) => console.error(`[embedded] stopping ${name} failed: ${err instanceof Error ? err.message : String(err)}`));
    }
    stops.length = 0;
    await pg.close().catch(() => undefined);
    rmSync(pidFile, { force: true });
  };
  try {
    const broker = await DatabaseLogBroker.open(await PgliteDatabase.open(pg, BUS_SCHEMA));
    stops.push({ name: 'message log', stop: () => broker.close() });
    const schema = (env: { DB_NAME: string }) => PgliteDatabase.open(pg, env.DB_NAME);

    // Callees first: the wallet (called by payment), the inventory (order reads its catalog).
    const wallet = loadConfig(WalletEnvSchema, envOf('wallet'));
    const w = await startWallet({ env: wallet, logger: loggerOf('wallet', wallet.LOG_LEVEL), db: await schema(wallet) });
    stops.push({ name: 'wallet', stop: () => w.stop() });

    const inventory = loadConfig(InventoryEnvSchema, envOf('inventory'));
    const i = await startInventory({ env: inventory, logger: loggerOf('inventory', inventory.LOG_LEVEL), db: await schema(inventory), broker });
    stops.push({ name: 'inventory', stop: () => i.stop() });

    const payment = loadConfig(PaymentEnvSchema, envOf('payment'));
    const p = await startPayment({ env: payment, logger: loggerOf('payment', payment.LOG_LEVEL), db: await schema(payment), broker });
    stops.push({ name: 'payment', stop: () => p.stop() });

    const orchestrator = loadConfig(OrchestratorEnvSchema, envOf('orchestrator'));
    const s = await startOrchestrator({ env: orchestrator, logger: loggerOf('orchestrator', orchestrator.LOG_LEVEL), db: await schema(orchestrator), broker });
    stops.push({ name: 'orchestrator', stop: () => s.stop() });

    const order = loadConfig(OrderEnvSchema, envOf('order'));
    const r = await startOrder({
      env: order,
      logger: loggerOf('order', order.LOG_LEVEL),
      db: await schema(order),
      notifications: new PgliteNotifications(pg),
      broker,
    });
    stops.push({ name: 'order', stop: () => r.stop() });

    gateway = loadConfig(GatewayEnvSchema, envOf('gateway'));
    const g = await startGateway(gateway, loggerOf('gateway', gateway.LOG_LEVEL));
    stops.push({ name: 'gateway', stop: () => g.stop() });
  } catch (err) {
    await stopAll();
    throw err;
  }

  let stopped: Promise<void> | undefined;
  return {
    urls: Object.fromEntries(SERVICES.map((spec) => [spec.name, `http://${HOST}:${portOf(spec.name)}`])),
    dataDir,
    created,
    authMode: gateway!.AUTH_MODE,
    startedInMs: Math.round(performance.now() - t0),
    stop: () => (stopped ??= stopAll()),
  };
}

function say(message: string): void {
  console.log(`[embedded] ${message}`);
}

async function cli(): Promise<void> {
  const offset = Number(process.env.STACK_PORT_OFFSET ?? 0);
  if (!Number.isInteger(offset) || offset < 0) throw new Error(`STACK_PORT_OFFSET must be a non-negative integer, got "${process.env.STACK_PORT_OFFSET}"`);
  const system = await startEmbedded({ portOffset: offset });
  const shown = system.dataDir.startsWith(`${REPO_ROOT}/`) ? relative(REPO_ROOT, system.dataDir) : system.dataDir;
  const rssMb = Math.round(process.memoryUsage().rss / 1e6);
  say(`ready in ${(system.startedInMs / 1000).toFixed(1)} s, ${rssMb} MB resident (${system.created ? 'first start: created' : 'kept data from'} ${shown})`);
  for (const [name, url] of Object.entries(system.urls)) say(`  ${name.padEnd(12)} ${url}`);
  say(`gateway (the public API): ${system.urls.gateway}   docs: ${system.urls.gateway}/api/docs`);
  if (system.authMode === 'demo') {
    say(`demo logins (POST /api/auth/login {username, password}): ${DEMO_LOGINS.map((l) => `${l.username} / ${l.password}`).join(', ')}`);
  }
  say(`try: curl -s -X POST ${system.urls.gateway}/orders -H 'content-type: application/json' -d '{"customerId":"CUS_0001","orderItems":[{"productId":"P001","quantity":1,"totalPrice":999.99}]}'`);
  say('Ctrl-C stops everything (npm run reset clears the data)');
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      say(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    say(`${signal} received, stopping ...`);
    system.stop().then(
      () => {
        say('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        console.error(`[embedded] stopping failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

if (import.meta.main) {
  cli().catch((err: unknown) => {
    console.error(`[embedded] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
