import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MESSAGING_MIGRATIONS, type MessageBroker } from '@saga/messaging';
import { startMessagingService, type ConsumerOf, type Readiness } from '@saga/nest-kit';
import type { Database } from '@saga/postgres';
import type { Logger } from 'pino';
import { ParkedDebits } from './parked-debits';
import { PaymentCommandsHandler, type PreparedPayments } from './payment-commands.handler';
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
  parkedDebits: ParkedDebits;
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
 * The start sequence of every messaging service (nest-kit's startMessagingService), with the
 * reversal reconciler beside the consumer. The one wiring of the service: main.ts (pg + Kafka), the
 * embedded runner (PGlite + in-process log) and the integration test use it.
 */
export async function startPayment({ env, logger, db, broker }: PaymentDeps): Promise<RunningPayment> {
  const wallet = new WalletClient({
    baseUrl: env.WALLET_URL.replace(/\/$/, ''),
    timeoutMs: env.WALLET_TIMEOUT_MS,
    maxAttempts: env.WALLET_MAX_ATTEMPTS,
    totalTimeoutMs: env.WALLET_TOTAL_TIMEOUT_MS,
    backoffMs: env.WALLET_BACKOFF_MS,
    logger,
  });
  const reconciler = new ReversalReconciler(db, wallet, logger, { intervalMs: env.RECONCILE_INTERVAL_MS });
  const topics = { replies: env.REPLIES_TOPIC, events: env.EVENTS_TOPIC };
  let parkedDebits!: ParkedDebits;
  const service = await startMessagingService({
    service: SERVICE,
    port: env.PORT,
    host: env.HOST,
    logger,
    db,
    broker,
    migrations: [...MESSAGING_MIGRATIONS, ...PAYMENT_MIGRATIONS],
    build: (relay) => {
      parkedDebits = new ParkedDebits(db, relay, wallet, logger, topics, {
        intervalMs: env.RECONCILE_INTERVAL_MS,
        busyMaxMs: env.WALLET_BUSY_MAX_MS,
        busyRetryMs: env.RECONCILE_INTERVAL_MS,
        reversalDelayMs: env.RECONCILE_INTERVAL_MS,
        // Past the bound of the call in flight for it, a parked payment may be claimed by another round.
        leaseMs: 2 * env.WALLET_TOTAL_TIMEOUT_MS,
      });
      const handler = new PaymentCommandsHandler(db, wallet, logger, topics, parkedDebits, {
        walletConcurrency: env.WALLET_CONCURRENCY,
        reversalDelayMs: env.RECONCILE_INTERVAL_MS,
        walletHoldMs: env.WALLET_HOLD_MS,
      });
      return {
        module: PaymentModule.register(db),
        consumers: [
          { groupId: env.KAFKA_GROUP_ID, topics: [env.COMMANDS_TOPIC], prepare: handler.prepare, handle: handler.handle } satisfies ConsumerOf<PreparedPayments>,
        ],
        workersBefore: [reconciler, parkedDebits],
      };
    },
  });
  return { ...service, db, reconciler, parkedDebits };
}
