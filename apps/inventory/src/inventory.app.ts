import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  MESSAGING_MIGRATIONS,
  OutboxRelay,
  startTransactionalConsumer,
  type MessageBroker,
  type OutgoingMessage,
  type Subscription,
} from '@saga/messaging';
import { Readiness, startHttpApp, stopOnce } from '@saga/nest-kit';
import { migrate, type Database } from '@saga/postgres';
import type { Logger } from 'pino';
import type { InventoryEnv } from './inventory.config';
import { INVENTORY_MIGRATIONS } from './inventory.migrations';
import { InventoryModule } from './inventory.module';
import { seedProducts } from './product.seed';
import { ProductsService } from './products.service';
import { StockCommandsHandler } from './stock-commands.handler';

export const SERVICE = 'inventory';

export interface RunningInventory {
  app: NestFastifyApplication;
  db: Database;
  relay: OutboxRelay;
  readiness: Readiness;
  /** Stops consuming, drains the relay, closes HTTP (not the database or the broker: the caller owns them). */
  stop(): Promise<void>;
}

export interface InventoryDeps {
  env: InventoryEnv;
  logger: Logger;
  /** The service's own database (PostgreSQL or a PGlite schema); migrated here. */
  db: Database;
  broker: MessageBroker;
}

/**
 * Migrations + seed → HTTP → relay + consumer → ready. The one wiring of the service: main.ts (pg +
 * Kafka), the embedded runner (PGlite + in-process log) and the integration test use it.
 */
export async function startInventory({ env, logger, db, broker }: InventoryDeps): Promise<RunningInventory> {
  const readiness = new Readiness(['db', 'consumer']);
  await migrate(db, [...MESSAGING_MIGRATIONS, ...INVENTORY_MIGRATIONS]);
  const seeded = await seedProducts(db);
  if (seeded > 0) logger.info({ seeded }, 'seed products created');
  readiness.probe('db', () => db.query('SELECT 1'));
  const relay = new OutboxRelay({ db, producer: broker.producer(), logger });
  const products = new ProductsService(db, relay);
  const announced = await products.announceNew();
  if (announced > 0) logger.info({ announced }, 'products announced on inventory.events');

  const app = await startHttpApp({
    service: SERVICE,
    module: InventoryModule.register(products),
    port: env.PORT,
    host: env.HOST,
    logger,
    readiness,
  });
  readiness.probe('outbox', () => relay.checkBacklog());
  relay.start();
  const handler = new StockCommandsHandler(logger);
  const readdress = (out: readonly OutgoingMessage[]) =>
    env.REPLIES_TOPIC === 'orchestrator.replies' ? out : out.map((m) => ({ ...m, topic: env.REPLIES_TOPIC }));
  let subscription: Subscription | undefined;
  try {
    subscription = await startTransactionalConsumer({
      broker,
      db,
      relay,
      groupId: env.KAFKA_GROUP_ID,
      topics: [env.COMMANDS_TOPIC],
      logger,
      handle: async (tx, messages) => readdress(await handler.handle(tx, messages)),
    });
    await subscription.ready;
  } catch (err) {
    await relay.stop();
    await app.close();
    throw err;
  }
  readiness.markReady('consumer');

  return {
    app,
    db,
    relay,
    readiness,
    stop: stopOnce(async () => {
      readiness.markNotReady('consumer', 'shutting down');
      await subscription?.close();
      await relay.stop();
      await app.close();
    }),
  };
}
