import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { KafkaBroker } from '@saga/messaging';
import { brokerList, createLogger, loadConfig } from '@saga/nest-kit';
import { SERVICE, startPayment } from './payment.app';
import { PaymentEnvSchema } from './payment.config';

async function main(): Promise<void> {
  const env = loadConfig(PaymentEnvSchema);
  const logger = createLogger(SERVICE, env.LOG_LEVEL);
  const broker = new KafkaBroker({ brokers: brokerList(env.KAFKA_BROKERS), clientId: SERVICE, logger });
  const payment = await startPayment(env, logger, broker);
  const { port } = payment.app.getHttpServer().address() as AddressInfo;
  logger.info({ port, db: env.DB_NAME }, 'payment service ready');
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    payment
      .stop()
      .then(() => broker.close())
      .then(
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
