import 'reflect-metadata';
import { MESSAGING_MIGRATIONS, KafkaBroker, OutboxRelay, startTransactionalConsumer } from '@saga/messaging';
import { brokerList, createLogger, loadConfig, openServiceDatabase, Readiness, runService, startHttpApp } from '@saga/nest-kit';
import { CatalogClient } from './catalog.client';
import { OrderCommandsHandler } from './order-commands.handler';
import { OrderEventStreams } from './order-events.stream';
import { OrderOutcomeWaiter } from './order-outcome.waiter';
import { OrderEnvSchema } from './order.config';
import { ORDER_MIGRATIONS } from './order.migrations';
import { OrderModule } from './order.module';
import { OrderService } from './order.service';

const SERVICE = 'order';

runService(async () => {
  const env = loadConfig(OrderEnvSchema);
  const logger = createLogger(SERVICE, env.LOG_LEVEL);
  const readiness = new Readiness(['kafka']);
  const db = await openServiceDatabase({
    serverUrl: env.DATABASE_URL,
    name: env.DB_NAME,
    migrations: [...MESSAGING_MIGRATIONS, ...ORDER_MIGRATIONS],
    poolSize: env.DB_POOL_SIZE,
  });
  const broker = new KafkaBroker({ brokers: brokerList(env.KAFKA_BROKERS), clientId: SERVICE, logger });
  const relay = new OutboxRelay({ db, producer: broker.producer(), logger });
  const waiter = new OrderOutcomeWaiter(databaseUrl(env.DATABASE_URL, env.DB_NAME), logger);
  const orders = new OrderService(db, new CatalogClient(env.INVENTORY_URL, env.CATALOG_CACHE_MS), waiter, relay, {
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
  await waiter.start();
  relay.start();
  const subscription = await startTransactionalConsumer({
    broker,
    db,
    relay,
    groupId: env.KAFKA_GROUP_ID,
    topics: handler.topics,
    logger,
    accepts: handler.accepts,
    handle: handler.handle,
  });
  const expiry = setInterval(() => {
    orders.expireDue().catch((err: unknown) => logger.error({ err }, 'order expiry failed'));
  }, 5_000);
  expiry.unref();
  await subscription.ready;
  readiness.markReady('kafka');
  logger.info({ port: env.PORT }, 'order service ready');
  return {
    logger,
    stop: async () => {
      readiness.markNotReady('kafka', 'shutting down');
      clearInterval(expiry);
      await subscription.close();
      await relay.stop();
      events.closeAll();
      await waiter.stop();
      await app.close();
      await broker.close();
      await db.close();
    },
  };
});

function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

