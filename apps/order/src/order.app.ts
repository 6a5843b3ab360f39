import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MESSAGING_MIGRATIONS, type MessageBroker } from '@saga/messaging';
import { PeriodicRound, startMessagingService, type Readiness } from '@saga/nest-kit';
import type { Database, Notifications } from '@saga/postgres';
import type { Logger } from 'pino';
import { Catalog } from './catalog';
import { CatalogClient } from './catalog.client';
import { CustomerDirectory } from './customers';
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
 * The start sequence of every messaging service (nest-kit's startMessagingService), with the status
 * listener before the consumer and the expiry of unpaid orders after it. The one wiring of the
 * service: main.ts (pg + Kafka) and the embedded runner (PGlite + in-process log) use it.
 */
export async function startOrder({ env, logger, db, notifications, broker }: OrderDeps): Promise<RunningOrder> {
  const waiter = new OrderOutcomeWaiter(notifications, logger);
  return startMessagingService({
    service: SERVICE,
    port: env.PORT,
    host: env.HOST,
    logger,
    db,
    broker,
    migrations: [...MESSAGING_MIGRATIONS, ...ORDER_MIGRATIONS],
    build: (relay) => {
      const catalog = new Catalog(db, new CatalogClient(env.INVENTORY_URL), env.CATALOG_CACHE_MS);
      const customers = new CustomerDirectory(env.WALLET_URL, logger);
      const orders = new OrderService(db, catalog, customers, waiter, relay, {
        waitMs: env.ORDER_WAIT_MS,
        expiryMs: env.ORDER_EXPIRY_MS,
        idempotencyKeyTtlMs: env.IDEMPOTENCY_KEY_TTL_MS,
      });
      const handler = new OrderCommandsHandler(orders, logger);
      const events = new OrderEventStreams(db, waiter, logger, { heartbeatMs: env.SSE_HEARTBEAT_MS, rereadMs: env.SSE_REREAD_MS });
      return {
        module: OrderModule.register(orders, events),
        consumers: [{ groupId: env.KAFKA_GROUP_ID, topics: handler.topics, accepts: handler.accepts, handle: handler.handle }],
        // Status changes wake waiting calls and event streams: listening before anything can change.
        workersBefore: [
          {
            start: () => waiter.start(),
            stop: async () => {
              events.closeAll();
              await waiter.stop();
            },
          },
        ],
        workersAfter: [
          new PeriodicRound(() => orders.expireDue(), { intervalMs: 5_000, onError: (err) => logger.error({ err }, 'order expiry failed') }),
          // Expired idempotency keys go in rounds of 1,000, at once again while a round is full.
          new PeriodicRound(() => orders.expireIdempotencyKeys(1_000), {
            intervalMs: 60_000,
            again: (removed) => removed === 1_000,
            onError: (err) => logger.error({ err }, 'idempotency key expiry failed'),
          }),
        ],
      };
    },
  });
}
