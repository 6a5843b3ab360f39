import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Readiness, startHttpApp, stopOnce } from '@saga/nest-kit';
import { migrate, type Database } from '@saga/postgres';
import type { Logger } from 'pino';
import type { WalletEnv } from './wallet.config';
import { WALLET_MIGRATIONS } from './wallet.migrations';
import { WalletModule } from './wallet.module';
import { seedWallets } from './wallet.seed';
import { WalletService } from './wallet.service';

export const SERVICE = 'wallet';

export interface RunningWallet {
  app: NestFastifyApplication;
  db: Database;
  readiness: Readiness;
  /** Closes HTTP (not the database: the caller owns it). */
  stop(): Promise<void>;
}

export interface WalletDeps {
  env: WalletEnv;
  logger: Logger;
  /** The service's own database (PostgreSQL or a PGlite schema); migrated here. */
  db: Database;
}

/**
 * Migrations + seed → HTTP → ready. The one wiring of the service: main.ts (pg), the embedded runner
 * (PGlite) and the integration test use it.
 */
export async function startWallet({ env, logger, db }: WalletDeps): Promise<RunningWallet> {
  const readiness = new Readiness(['db']);
  await migrate(db, WALLET_MIGRATIONS);
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
  readiness.probe('db', () => db.query('SELECT 1'));
  return {
    app,
    db,
    readiness,
    stop: stopOnce(async () => {
      readiness.markNotReady('http', 'shutting down');
      await app.close();
    }),
  };
}
