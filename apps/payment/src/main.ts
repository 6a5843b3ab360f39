import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { KafkaBroker } from '@saga/messaging';
import { brokerList, createLogger, loadConfig, openServiceDatabase, runService } from '@saga/nest-kit';
import { SERVICE, startPayment } from './payment.app';
import { PaymentEnvSchema } from './payment.config';

runService(async () => {
  const env = loadConfig(PaymentEnvSchema);
  const logger = createLogger(SERVICE, env.LOG_LEVEL);
  const db = await openServiceDatabase({ serverUrl: env.DATABASE_URL, name: env.DB_NAME, poolSize: env.DB_POOL_SIZE });
  const broker = new KafkaBroker({ brokers: brokerList(env.KAFKA_BROKERS), clientId: SERVICE, logger });
  const service = await startPayment({ env, logger, db, broker });
  const { port } = service.app.getHttpServer().address() as AddressInfo;
  logger.info({ port, db: env.DB_NAME }, 'payment service ready');
  return {
    logger,
    stop: async () => {
      await service.stop();
      await broker.close();
      await db.close();
    },
  };
});
