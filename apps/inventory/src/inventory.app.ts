import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MESSAGING_MIGRATIONS, type MessageBroker, type OutboxRelay, type OutgoingMessage } from '@saga/messaging';
import { startMessagingService, type Readiness } from '@saga/nest-kit';
import type { Database } from '@saga/postgres';
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
 * Migrations + seed + announcing the catalog, then the start sequence of every messaging service
 * (nest-kit's startMessagingService). The one wiring of the service: main.ts (pg + Kafka), the
 * embedded runner (PGlite + in-process log) and the integration test use it.
 */
export async function startInventory({ env, logger, db, broker }: InventoryDeps): Promise<RunningInventory> {
  const handler = new StockCommandsHandler(logger);
  const readdress = (out: readonly OutgoingMessage[]) =>
    env.REPLIES_TOPIC === 'orchestrator.replies' ? out : out.map((m) => ({ ...m, topic: env.REPLIES_TOPIC }));
  const service = await startMessagingService({
    service: SERVICE,
    port: env.PORT,
    host: env.HOST,
    logger,
    db,
    broker,
    migrations: [...MESSAGING_MIGRATIONS, ...INVENTORY_MIGRATIONS],
    build: async (relay) => {
      const seeded = await seedProducts(db);
      if (seeded > 0) logger.info({ seeded }, 'seed products created');
      const products = new ProductsService(db, relay);
      const announced = await products.announceNew();
      if (announced > 0) logger.info({ announced }, 'products announced on inventory.events');
      return {
        module: InventoryModule.register(products),
        consumers: [
          { groupId: env.KAFKA_GROUP_ID, topics: [env.COMMANDS_TOPIC], handle: async (tx, messages) => readdress(await handler.handle(tx, messages)) },
        ],
      };
    },
  });
  return { ...service, db };
}
