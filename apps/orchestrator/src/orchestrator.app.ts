import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MESSAGING_MIGRATIONS, OutboxRelay, startTransactionalConsumer, type MessageBroker, type Subscription } from '@saga/messaging';
import { Readiness, startHttpApp, stopOnce } from '@saga/nest-kit';
import { migrate, type Database, type Queryable } from '@saga/postgres';
import { SagaEngine, SYSTEM_CLOCK } from '@saga/saga';
import type { Logger } from 'pino';
import { v7 } from 'uuid';
import { deadLetters } from './dead-letters/dead-letters.wiring';
import type { OrchestratorEnv } from './orchestrator.config';
import { ORCHESTRATOR_MIGRATIONS } from './orchestrator.migrations';
import { OrchestratorModule } from './orchestrator.module';
import { placeOrderSaga } from './place-order.saga';
import { PgSagaStore } from './postgres/pg-saga.store';
import { SagaQueryRepository } from './postgres/saga-query.repository';
import { SagaMessagesHandler } from './saga-messages.handler';
import { SagaTimerPoller } from './saga-timer.poller';
import { SagasService } from './sagas.service';

export const SERVICE = 'orchestrator';

export interface OrchestratorDeps {
  env: OrchestratorEnv;
  logger: Logger;
  /** The service's own database (PostgreSQL or a PGlite schema); migrated here. */
  db: Database;
  broker: MessageBroker;
}

export interface RunningOrchestrator {
  app: NestFastifyApplication;
  readiness: Readiness;
  /** Stops the timers, consuming, the relay and HTTP (not the database or the broker: the caller owns them). */
  stop(): Promise<void>;
}

/**
 * Migrations → saga engine → HTTP → relay + consumer + durable timers → ready. The one wiring of the
 * service: main.ts (pg + Kafka) and the embedded runner (PGlite + in-process log) use it.
 */
export async function startOrchestrator({ env, logger, db, broker }: OrchestratorDeps): Promise<RunningOrchestrator> {
  const readiness = new Readiness(['db', 'kafka']);
  await migrate(db, [...MESSAGING_MIGRATIONS, ...ORCHESTRATOR_MIGRATIONS]);
  readiness.probe('db', () => db.query('SELECT 1'));

  const engine = new SagaEngine<Queryable>({
    store: new PgSagaStore(),
    definitions: [
      placeOrderSaga({
        stepTimeoutMs: env.STEP_TIMEOUT_MS,
        paymentTimeoutMs: env.PAYMENT_TIMEOUT_MS,
        maxAttempts: env.STEP_MAX_ATTEMPTS,
        backoffMs: env.RETRY_BACKOFF_MS,
        compensationMaxAttempts: env.COMPENSATION_MAX_ATTEMPTS,
      }),
    ],
    clock: SYSTEM_CLOCK,
    ids: { newId: v7 },
  });
  const relay = new OutboxRelay({ db, producer: broker.producer(), logger });
  readiness.probe('outbox', () => relay.checkBacklog());
  const timers = new SagaTimerPoller({ db, engine, relay, logger, intervalMs: env.TIMER_POLL_MS, batchSize: env.TIMER_BATCH_SIZE });
  const sagas = new SagasService(db, engine, relay, new SagaQueryRepository(db));
  const handler = new SagaMessagesHandler(engine, logger, { orderEvents: env.ORDER_EVENTS_TOPIC, replies: env.REPLIES_TOPIC });
  const dlq = deadLetters({ broker, db, relay, topics: env.DEAD_LETTER_TOPICS, groupId: env.KAFKA_GROUP_ID, logger });

  const app = await startHttpApp({
    service: SERVICE,
    module: OrchestratorModule.register(sagas, dlq.service),
    port: env.PORT,
    host: env.HOST,
    logger,
    readiness,
  });
  relay.start();
  let subscription: Subscription | undefined;
  let dlqSubscription: Subscription | undefined;
  try {
    subscription = await startTransactionalConsumer({
      broker,
      db,
      relay,
      groupId: env.KAFKA_GROUP_ID,
      topics: handler.topics,
      logger,
      accepts: handler.accepts,
      handle: handler.handle,
      afterCommit: handler.afterCommit,
      concurrency: env.CONSUMER_CONCURRENCY,
    });
    dlqSubscription = await dlq.start();
    await Promise.all([subscription.ready, dlqSubscription.ready]);
  } catch (err) {
    await subscription?.close();
    await dlqSubscription?.close();
    await relay.stop();
    await app.close();
    throw err;
  }
  timers.start();
  readiness.markReady('kafka');

  return {
    app,
    readiness,
    stop: stopOnce(async () => {
      readiness.markNotReady('kafka', 'shutting down');
      await timers.stop();
      await subscription?.close();
      await dlqSubscription?.close();
      await relay.stop();
      await app.close();
    }),
  };
}
