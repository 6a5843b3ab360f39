import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MESSAGING_MIGRATIONS, OutboxRelay, startTransactionalConsumer, type MessageBroker, type Subscription } from '@saga/messaging';
import { Readiness, startHttpApp, stopOnce } from '@saga/nest-kit';
import { migrate, type Database } from '@saga/postgres';
import type { Logger } from 'pino';
import { PaymentCommandsHandler, type WalletAnswers } from './payment-commands.handler';
import type { PaymentEnv } from './payment.config';
import { PAYMENT_MIGRATIONS } from './payment.migrations';
import { PaymentModule } from './payment.module';
import { ReversalReconciler } from './reversal.reconciler';
import { WalletClient } from './wallet.client';

export const SERVICE = 'payment';

export interface RunningPayment {
  app: NestFastifyApplication;
  db: Database;
  reconciler: ReversalReconciler;
  readiness: Readiness;
  /** Stops consuming, the reconciler and the relay, closes HTTP (not the database or the broker: the caller owns them). */
  stop(): Promise<void>;
}

export interface PaymentDeps {
  env: PaymentEnv;
  logger: Logger;
  /** The service's own database (PostgreSQL or a PGlite schema); migrated here. */
  db: Database;
  broker: MessageBroker;
}

/**
 * Migrations → HTTP → relay + reconciler + consumer → ready. The one wiring of the service: main.ts
 * (pg + Kafka), the embedded runner (PGlite + in-process log) and the integration test use it.
 */
export async function startPayment({ env, logger, db, broker }: PaymentDeps): Promise<RunningPayment> {
  const readiness = new Readiness(['db', 'consumer']);
  await migrate(db, [...MESSAGING_MIGRATIONS, ...PAYMENT_MIGRATIONS]);
  readiness.probe('db', () => db.query('SELECT 1'));
  const app = await startHttpApp({ service: SERVICE, module: PaymentModule.register(db), port: env.PORT, host: env.HOST, logger, readiness });

  const wallet = new WalletClient({
    baseUrl: env.WALLET_URL.replace(/\/$/, ''),
    timeoutMs: env.WALLET_TIMEOUT_MS,
    maxAttempts: env.WALLET_MAX_ATTEMPTS,
    totalTimeoutMs: env.WALLET_TOTAL_TIMEOUT_MS,
    backoffMs: env.WALLET_BACKOFF_MS,
    logger,
  });
  const relay = new OutboxRelay({ db, producer: broker.producer(), logger });
  readiness.probe('outbox', () => relay.checkBacklog());
  relay.start();
  const reconciler = new ReversalReconciler(db, wallet, logger, { intervalMs: env.RECONCILE_INTERVAL_MS });
  reconciler.start();
  const handler = new PaymentCommandsHandler(
    db,
    wallet,
    logger,
    { replies: env.REPLIES_TOPIC, events: env.EVENTS_TOPIC },
    { walletConcurrency: env.WALLET_CONCURRENCY, reversalDelayMs: env.RECONCILE_INTERVAL_MS },
  );
  let subscription: Subscription | undefined;
  try {
    subscription = await startTransactionalConsumer<WalletAnswers>({
      broker,
      db,
      relay,
      groupId: env.KAFKA_GROUP_ID,
      topics: [env.COMMANDS_TOPIC],
      logger,
      prepare: handler.prepare,
      handle: handler.handle,
    });
    await subscription.ready;
  } catch (err) {
    await reconciler.stop();
    await relay.stop();
    await app.close();
    throw err;
  }
  readiness.markReady('consumer');

  return {
    app,
    db,
    reconciler,
    readiness,
    stop: stopOnce(async () => {
      readiness.markNotReady('consumer', 'shutting down');
      await subscription?.close();
      await reconciler.stop();
      await relay.stop();
      await app.close();
    }),
  };
}
