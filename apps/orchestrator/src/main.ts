import 'reflect-metadata';
import { KafkaBroker } from '@saga/messaging';
import { brokerList, createLogger, loadConfig, openServiceDatabase, runService } from '@saga/nest-kit';
import { SERVICE, startOrchestrator } from './orchestrator.app';
import { OrchestratorEnvSchema } from './orchestrator.config';

runService(async () => {
  const env = loadConfig(OrchestratorEnvSchema);
  const logger = createLogger(SERVICE, env.LOG_LEVEL);
  const db = await openServiceDatabase({ serverUrl: env.DATABASE_URL, name: env.DB_NAME, poolSize: env.DB_POOL_SIZE });
  const broker = new KafkaBroker({ brokers: brokerList(env.KAFKA_BROKERS), clientId: SERVICE, logger });
  const service = await startOrchestrator({ env, logger, db, broker });
  logger.info({ port: env.PORT }, 'orchestrator ready');
  return {
    logger,
    stop: async () => {
      await service.stop();
      await broker.close();
      await db.close();
    },
  };
});
