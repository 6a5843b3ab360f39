import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { createLogger, loadConfig, runService } from '@saga/nest-kit';
import { SERVICE, startWallet } from './wallet.app';
import { WalletEnvSchema } from './wallet.config';

runService(async () => {
  const env = loadConfig(WalletEnvSchema);
  const logger = createLogger(SERVICE, env.LOG_LEVEL);
  const wallet = await startWallet(env, logger);
  const { port } = wallet.app.getHttpServer().address() as AddressInfo;
  logger.info({ port, db: env.DB_NAME }, 'wallet service ready');
  return { logger, stop: () => wallet.stop() };
});
