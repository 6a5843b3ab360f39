import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { uuidv7 } from '@saga/contracts';
import { MESSAGING_MIGRATIONS, type MessageBroker } from '@saga/messaging';
import { startMessagingService, type Readiness } from '@saga/nest-kit';
import type { Database, Transaction } from '@saga/postgres';
import { SagaEngine, SYSTEM_CLOCK } from '@saga/saga';
import type { Logger } from 'pino';
import { deadLetters } from './dead-letters/dead-letters.wiring';
import type { OrchestratorEnv } from './orchestrator.config';
import { ORCHESTRATOR_MIGRATIONS } from './orchestrator.migrations';
import { OrchestratorModule } from './orchestrator.module';
import { placeOrderSaga } from './place-order.saga';
import { returnOrderSaga } from './return-order.saga';
import { ParkedEventsReplayer } from './parked-events.replayer';
import { ParkedEventsRepository } from './postgres/parked-events.repository';
import { PgSagaStore } from './postgres/pg-saga.store';
import { SagaQueryRepository } from './postgres/saga-query.repository';
import { SagaMessagesHandler } from './saga-messages.handler';
import { SagaTimerPoller } from './saga-timer.poller';
import { reportMissingVersions } from './saga.metrics';
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
 * The saga engine, then the start sequence of every messaging service (nest-kit's
 * startMessagingService) with the dead-letter collector and the durable timers. The one wiring of
 * the service: main.ts (pg + Kafka) and the embedded runner (PGlite + in-process log) use it.
 */
export async function startOrchestrator({ env, logger, db, broker }: OrchestratorDeps): Promise<RunningOrchestrator> {
  const timings = {
    stepTimeoutMs: env.STEP_TIMEOUT_MS,
    paymentTimeoutMs: env.PAYMENT_TIMEOUT_MS,
    maxAttempts: env.STEP_MAX_ATTEMPTS,
    backoffMs: env.RETRY_BACKOFF_MS,
    compensationMaxAttempts: env.COMPENSATION_MAX_ATTEMPTS,
  };
  const engine = new SagaEngine<Transaction>({
    store: new PgSagaStore(),
    // every configured place-order version (new sagas start on the highest, each saga runs on its
    // own), and the return saga
    definitions: [...env.PLACE_ORDER_SAGA_VERSIONS.map((version) => placeOrderSaga(timings, version)), returnOrderSaga(timings)],
    clock: SYSTEM_CLOCK,
    ids: { newId: uuidv7 },
  });
  logger.info({ sagas: engine.registered() }, 'saga definitions registered');
  const parked = new ParkedEventsRepository();
  const handler = new SagaMessagesHandler(engine, logger, { orderEvents: env.ORDER_EVENTS_TOPIC, replies: env.REPLIES_TOPIC });
  return startMessagingService({
    service: SERVICE,
    port: env.PORT,
    host: env.HOST,
    logger,
    db,
    broker,
    migrations: [...MESSAGING_MIGRATIONS, ...ORCHESTRATOR_MIGRATIONS],
    build: (relay) => {
      const timers = new SagaTimerPoller({ db, engine, relay, logger, intervalMs: env.TIMER_POLL_MS, batchSize: env.TIMER_BATCH_SIZE });
      const sagas = new SagasService(db, engine, relay, new SagaQueryRepository(db), parked);
      const replayer = new ParkedEventsReplayer({ db, engine, parked, relay, logger, intervalMs: env.PARKED_EVENTS_POLL_MS });
      let unregisterGauge = (): void => undefined;
      const missingVersions = {
        start: () => void (unregisterGauge = reportMissingVersions(SERVICE, db, parked, engine.registered())),
        stop: () => unregisterGauge(),
      };
      const dlq = deadLetters({ broker, db, relay, topics: env.DEAD_LETTER_TOPICS, groupId: env.KAFKA_GROUP_ID, logger });
      return {
        module: OrchestratorModule.register(sagas, dlq.service),
        consumers: [
          {
            groupId: env.KAFKA_GROUP_ID,
            topics: handler.topics,
            accepts: handler.accepts,
            handle: handler.handle,
            afterCommit: handler.afterCommit,
            concurrency: env.CONSUMER_CONCURRENCY,
          },
        ],
        extraSubscriptions: [dlq.start],
        // Timers fire once the consumers are in: a re-sent command's reply can be handled.
        workersAfter: [timers, replayer, missingVersions],
      };
    },
  });
}
