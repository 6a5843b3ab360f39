import 'reflect-metadata';
import { KafkaBroker, MESSAGING_MIGRATIONS, OutboxRelay, startTransactionalConsumer, type Subscription } from '@saga/messaging';
import { brokerList, createLogger, loadConfig, openServiceDatabase, Readiness, runService, startHttpApp } from '@saga/nest-kit';
import type { Queryable } from '@saga/postgres';
import { SagaEngine, SYSTEM_CLOCK } from '@saga/saga';
import { v7 } from 'uuid';
import { deadLetters } from './dead-letters/dead-letters.wiring';
import { OrchestratorEnvSchema } from './orchestrator.config';
import { ORCHESTRATOR_MIGRATIONS } from './orchestrator.migrations';
import { OrchestratorModule } from './orchestrator.module';
import { placeOrderSaga } from './place-order.saga';
import { PgSagaStore } from './postgres/pg-saga.store';
import { SagaQueryRepository } from './postgres/saga-query.repository';
import { SagaMessagesHandler } from './saga-messages.handler';
import { SagaTimerPoller } from './saga-timer.poller';
import { SagasService } from './sagas.service';

const SERVICE = 'orchestrator';

runService(async () => {
  const env = loadConfig(OrchestratorEnvSchema);
  const logger = createLogger(SERVICE, env.LOG_LEVEL);
  const readiness = new Readiness(['db', 'kafka']);
  const db = await openServiceDatabase({
    serverUrl: env.DATABASE_URL,
    name: env.DB_NAME,
    migrations: [...MESSAGING_MIGRATIONS, ...ORCHESTRATOR_MIGRATIONS],
    poolSize: env.DB_POOL_SIZE,
  });
  readiness.markReady('db');

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
  const broker = new KafkaBroker({ brokers: brokerList(env.KAFKA_BROKERS), clientId: SERVICE, logger });
  const relay = new OutboxRelay({ db, producer: broker.producer(), logger });
  const timers = new SagaTimerPoller({ db, engine, relay, logger, intervalMs: env.TIMER_POLL_MS, batchSize: env.TIMER_BATCH_SIZE });
  const sagas = new SagasService(db, engine, relay, new SagaQueryRepository(db));
  const dlq = deadLetters({ broker, db, relay, topics: env.DEAD_LETTER_TOPICS, groupId: env.KAFKA_GROUP_ID, logger });
  const handler = new SagaMessagesHandler(engine, logger, { orderEvents: env.ORDER_EVENTS_TOPIC, replies: env.REPLIES_TOPIC });
  let subscription: Subscription | null = null;

  const app = await startHttpApp({
    service: SERVICE,
    module: OrchestratorModule.register(sagas, dlq.service),
    port: env.PORT,
    host: env.HOST,
    logger,
    readiness,
  });
  relay.start();
  const consumer = await startTransactionalConsumer({
    broker,
    db,
    relay,
    groupId: env.KAFKA_GROUP_ID,
    topics: handler.topics,
    logger,
    accepts: handler.accepts,
    handle: handler.handle,
    concurrency: env.CONSUMER_CONCURRENCY,
  });
  subscription = consumer;
  const dlqSubscription = await dlq.start();
  await Promise.all([consumer.ready, dlqSubscription.ready]);
  timers.start();
  readiness.markReady('kafka');
  logger.info({ port: env.PORT }, 'orchestrator ready');
  return {
    logger,
    stop: async () => {
      readiness.markNotReady('kafka', 'shutting down');
      await timers.stop();
      await subscription?.close();
      await dlqSubscription.close();
      await relay.stop();
      await app.close();
      await broker.close();
      await db.close();
    },
  };
});
