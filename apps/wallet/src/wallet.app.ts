import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { openServiceDatabase, Readiness, startHttpApp } from '@saga/nest-kit';
import type { PgDatabase } from '@saga/postgres';
import type { Logger } from 'pino';
import type { WalletEnv } from './wallet.config';
import { WALLET_MIGRATIONS } from './wallet.migrations';
import { WalletModule } from './wallet.module';
import { seedWallets } from './wallet.seed';
import { WalletService } from './wallet.service';

export const SERVICE = 'wallet';

export interface RunningWallet {
  app: NestFastifyApplication;
  db: PgDatabase;
  readiness: Readiness;
  /** Closes HTTP, then the pool. */
  stop(): Promise<void>;
}

/** Database + migrations + seed → HTTP → ready. Used by main.ts and by the integration test. */
export async function startWallet(env: WalletEnv, logger: Logger): Promise<RunningWallet> {
  const readiness = new Readiness(['db']);
  const db = await openServiceDatabase({
    serverUrl: env.DATABASE_URL,
    name: env.DB_NAME,
    migrations: WALLET_MIGRATIONS,
    poolSize: env.DB_POOL_SIZE,
  });
  const seeded = await seedWallets(db);
  if (seeded > 0) logger.info({ seeded }, 'seed wallets created');
  const app = await startHttpApp({
    service: SERVICE,
    module: WalletModule.register(new WalletService(db, logger)),
    port: env.PORT,
    host: env.HOST,
    logger,
    readiness,
  });
  readiness.markReady('db');
  let stopped = false;
  return {
    app,
    db,
    readiness,
    async stop() {
      if (stopped) return;
      stopped = true;
      readiness.markNotReady('db', 'shutting down');
      await app.close();
      await db.close();
    },
  };
}
