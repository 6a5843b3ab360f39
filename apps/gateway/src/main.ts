import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { createLogger, loadConfig, runService } from '@saga/nest-kit';
import { SERVICE, startGateway } from './gateway.app';
import { GatewayEnvSchema } from './gateway.config';

runService(async () => {
  const env = loadConfig(GatewayEnvSchema);
  const logger = createLogger(SERVICE, env.LOG_LEVEL);
  const gateway = await startGateway(env, logger);
  const { port } = gateway.app.getHttpServer().address() as AddressInfo;
  logger.info({ port, authMode: env.AUTH_MODE, rateLimitStore: env.REDIS_URL ? 'redis' : 'memory' }, 'gateway listening (ready once every service answers /health)');
  return { logger, stop: () => gateway.stop() };
});
