import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { createLogger, loadConfig, openServiceDatabase, runService } from '@saga/nest-kit';
import { SERVICE, startWallet } from './wallet.app';
import { WalletEnvSchema } from './wallet.config';

runService(async () => {
  const env = loadConfig(WalletEnvSchema);
  const logger = createLogger(SERVICE, env.LOG_LEVEL);
  const db = await openServiceDatabase({ serverUrl: env.DATABASE_URL, name: env.DB_NAME, poolSize: env.DB_POOL_SIZE });
  const wallet = await startWallet({ env, logger, db });
  const { port } = wallet.app.getHttpServer().address() as AddressInfo;
  logger.info({ port, db: env.DB_NAME }, 'wallet service ready');
  return {
    logger,
    stop: async () => {
      await wallet.stop();
      await db.close();
    },
  };
});
