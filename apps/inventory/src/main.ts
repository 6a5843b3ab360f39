import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { KafkaBroker } from '@saga/messaging';
import { brokerList, createLogger, loadConfig, openServiceDatabase, runService } from '@saga/nest-kit';
import { SERVICE, startInventory } from './inventory.app';
import { InventoryEnvSchema } from './inventory.config';

runService(async () => {
  const env = loadConfig(InventoryEnvSchema);
  const logger = createLogger(SERVICE, env.LOG_LEVEL);
  const db = await openServiceDatabase({ serverUrl: env.DATABASE_URL, name: env.DB_NAME, poolSize: env.DB_POOL_SIZE });
  const broker = new KafkaBroker({ brokers: brokerList(env.KAFKA_BROKERS), clientId: SERVICE, logger });
  const service = await startInventory({ env, logger, db, broker });
  const { port } = service.app.getHttpServer().address() as AddressInfo;
  logger.info({ port, db: env.DB_NAME }, 'inventory service ready');
  return {
    logger,
    stop: async () => {
      await service.stop();
      await broker.close();
      await db.close();
    },
  };
});
