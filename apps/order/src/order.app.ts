import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MESSAGING_MIGRATIONS, OutboxRelay, startTransactionalConsumer, type MessageBroker, type Subscription } from '@saga/messaging';
import { Readiness, startHttpApp, stopOnce } from '@saga/nest-kit';
import { migrate, type Database, type Notifications } from '@saga/postgres';
import type { Logger } from 'pino';
import { Catalog } from './catalog';
import { CatalogClient } from './catalog.client';
import { OrderCommandsHandler } from './order-commands.handler';
import { OrderEventStreams } from './order-events.stream';
import { OrderOutcomeWaiter } from './order-outcome.waiter';
import type { OrderEnv } from './order.config';
import { ORDER_MIGRATIONS } from './order.migrations';
import { OrderModule } from './order.module';
import { OrderService } from './order.service';

export const SERVICE = 'order';

export interface OrderDeps {
  env: OrderEnv;
  logger: Logger;
  /** The service's own database (PostgreSQL or a PGlite schema); migrated here. */
  db: Database;
  /** LISTEN/NOTIFY on that database (order status changes wake waiting calls and event streams). */
  notifications: Notifications;
  broker: MessageBroker;
}

export interface RunningOrder {
  app: NestFastifyApplication;
  readiness: Readiness;
  /** Stops consuming, expiry, the relay, open streams and HTTP (not the database or the broker: the caller owns them). */
  stop(): Promise<void>;
}

/**
 * Migrations → HTTP → status listener + relay + consumer + expiry → ready. The one wiring of the
 * service: main.ts (pg + Kafka) and the embedded runner (PGlite + in-process log) use it.
 */
export async function startOrder({ env, logger, db, notifications, broker }: OrderDeps): Promise<RunningOrder> {
  const readiness = new Readiness(['kafka']);
  await migrate(db, [...MESSAGING_MIGRATIONS, ...ORDER_MIGRATIONS]);
  const relay = new OutboxRelay({ db, producer: broker.producer(), logger });
  readiness.probe('db', () => db.query('SELECT 1'));
  readiness.probe('outbox', () => relay.checkBacklog());
  const waiter = new OrderOutcomeWaiter(notifications, logger);
  const catalog = new Catalog(db, new CatalogClient(env.INVENTORY_URL), env.CATALOG_CACHE_MS);
  const orders = new OrderService(db, catalog, waiter, relay, {
    waitMs: env.ORDER_WAIT_MS,
    expiryMs: env.ORDER_EXPIRY_MS,
  });
  const handler = new OrderCommandsHandler(orders, logger);
  const events = new OrderEventStreams(db, waiter, logger, { heartbeatMs: env.SSE_HEARTBEAT_MS, rereadMs: env.SSE_REREAD_MS });

  const app = await startHttpApp({
    service: SERVICE,
    module: OrderModule.register(orders, events),
    port: env.PORT,
    host: env.HOST,
    logger,
    readiness,
  });
  let subscription: Subscription | undefined;
  try {
    await waiter.start();
    relay.start();
    subscription = await startTransactionalConsumer({
      broker,
      db,
      relay,
      groupId: env.KAFKA_GROUP_ID,
      topics: handler.topics,
      logger,
      accepts: handler.accepts,
      handle: handler.handle,
    });
    await subscription.ready;
  } catch (err) {
    await relay.stop();
    await waiter.stop();
    await app.close();
    throw err;
  }
  const expiry = setInterval(() => {
    orders.expireDue().catch((err: unknown) => logger.error({ err }, 'order expiry failed'));
  }, 5_000);
  expiry.unref();
  readiness.markReady('kafka');

  return {
    app,
    readiness,
    stop: stopOnce(async () => {
      readiness.markNotReady('kafka', 'shutting down');
      clearInterval(expiry);
      await subscription?.close();
      await relay.stop();
      events.closeAll();
      await waiter.stop();
      await app.close();
    }),
  };
}
