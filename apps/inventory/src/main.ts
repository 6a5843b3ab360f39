import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { KafkaBroker } from '@saga/messaging';
import { brokerList, createLogger, loadConfig } from '@saga/nest-kit';
import { SERVICE, startInventory } from './inventory.app';
import { InventoryEnvSchema } from './inventory.config';

async function main(): Promise<void> {
  const env = loadConfig(InventoryEnvSchema);
  const logger = createLogger(SERVICE, env.LOG_LEVEL);
  const broker = new KafkaBroker({ brokers: brokerList(env.KAFKA_BROKERS), clientId: SERVICE, logger });
  const inventory = await startInventory(env, logger, broker);
  const { port } = inventory.app.getHttpServer().address() as AddressInfo;
  logger.info({ port, db: env.DB_NAME }, 'inventory service ready');
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    inventory
      .stop()
      .then(() => broker.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
