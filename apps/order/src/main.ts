import 'reflect-metadata';
import { KafkaBroker } from '@saga/messaging';
import { brokerList, createLogger, loadConfig, openServiceDatabase, runService, serviceDatabaseUrl } from '@saga/nest-kit';
import { PgNotifications } from '@saga/postgres';
import { SERVICE, startOrder } from './order.app';
import { OrderEnvSchema } from './order.config';

runService(async () => {
  const env = loadConfig(OrderEnvSchema);
  const logger = createLogger(SERVICE, env.LOG_LEVEL);
  const db = await openServiceDatabase({ serverUrl: env.DATABASE_URL, name: env.DB_NAME, poolSize: env.DB_POOL_SIZE });
  const notifications = new PgNotifications(serviceDatabaseUrl(env.DATABASE_URL, env.DB_NAME), (err) =>
    logger.warn({ err }, 'order status listener lost its connection; reconnecting'),
  );
  const broker = new KafkaBroker({ brokers: brokerList(env.KAFKA_BROKERS), clientId: SERVICE, logger });
  const service = await startOrder({ env, logger, db, notifications, broker });
  logger.info({ port: env.PORT }, 'order service ready');
  return {
    logger,
    stop: async () => {
      await service.stop();
      await broker.close();
      await db.close();
    },
  };
});
