import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { createLogger, loadConfig } from '@saga/nest-kit';
import { SERVICE, startWallet } from './wallet.app';
import { WalletEnvSchema } from './wallet.config';

async function main(): Promise<void> {
  const env = loadConfig(WalletEnvSchema);
  const logger = createLogger(SERVICE, env.LOG_LEVEL);
  const wallet = await startWallet(env, logger);
  const { port } = wallet.app.getHttpServer().address() as AddressInfo;
  logger.info({ port, db: env.DB_NAME }, 'wallet service ready');
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    wallet.stop().then(
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
