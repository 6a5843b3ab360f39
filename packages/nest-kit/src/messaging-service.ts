import type { DynamicModule } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { OutboxRelay, startTransactionalConsumer, type MessageBroker, type Subscription, type TransactionalConsumerOptions } from '@saga/messaging';
import { migrate, type Database, type Migration } from '@saga/postgres';
import type { Logger } from 'pino';
import { startHttpApp } from './http-app';
import { stopOnce } from './process-lifecycle';
import { Readiness } from './readiness';

/** Something a service runs beside its consumers (timers, pollers, listeners). */
export interface ServiceWorker {
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** A transactional consumer of a service; the relay, database, broker and logger are filled in. */
export type ConsumerOf<C = void> = Omit<TransactionalConsumerOptions<C>, 'broker' | 'db' | 'relay' | 'logger'>;

/** What a service builds once its database is migrated, with the relay it publishes through. */
export interface MessagingServiceParts {
  /** The service's Nest module (controllers and their services). */
  module: DynamicModule;
  /** Its transactional consumers (the relay, database, broker and logger are filled in). */
  consumers: ConsumerOf<any>[]; // each consumer has its own `prepare` context type
  /** Started before the consumers (e.g. a listener they rely on), stopped after them and the relay. */
  workersBefore?: ServiceWorker[];
  /** Started once the consumers are ready (e.g. durable timers), stopped first. */
  workersAfter?: ServiceWorker[];
  /** Subscriptions of the service's own beyond its transactional consumers (e.g. a DLQ collector). */
  extraSubscriptions?: (() => Promise<Subscription>)[];
}

export interface MessagingServiceOptions {
  service: string;
  port: number;
  host: string;
  logger: Logger;
  db: Database;
  broker: MessageBroker;
  migrations: Migration[];
  /** Builds the service's parts after its migrations ran (seeding, announcing, wiring). */
  build(relay: OutboxRelay): Promise<MessagingServiceParts> | MessagingServiceParts;
}

export interface RunningMessagingService {
  app: NestFastifyApplication;
  relay: OutboxRelay;
  readiness: Readiness;
  /** Stops consuming, the workers, the relay (which drains the outbox) and HTTP; not the database or the broker. */
  stop(): Promise<void>;
}

/** The readiness part a messaging service is not ready without: its consumers have joined. */
export const CONSUMER_PART = 'consumer';

/**
 * The start sequence of every service that consumes and publishes messages, written once:
 * migrate → build → readiness probes (database, outbox backlog) → HTTP → relay → workers → consumers
 * (joined) → workers started after them → ready. Stop runs it backwards: not ready → late workers →
 * consumers (the batch in hand finishes and commits) → relay (drains the outbox) → early workers → HTTP.
 * If the start fails half-way, whatever started is stopped again before the error is rethrown.
 *
 * @example
 * return startMessagingService({ service: 'inventory', port, host, logger, db, broker, migrations,
 *   build: (relay) => ({ module: InventoryModule.register(new ProductsService(db, relay)),
 *     consumers: [{ groupId: 'inventory', topics: ['inventory.commands'], handle }] }) });
 */
export async function startMessagingService(o: MessagingServiceOptions): Promise<RunningMessagingService> {
  const { db, broker, logger } = o;
  const readiness = new Readiness([CONSUMER_PART]);
  await migrate(db, o.migrations);
  readiness.probe('db', () => db.query('SELECT 1'));
  const relay = new OutboxRelay({ db, producer: broker.producer(), logger });
  readiness.probe('outbox', () => relay.checkBacklog());
  const parts = await o.build(relay);
  const before = parts.workersBefore ?? [];
  const after = parts.workersAfter ?? [];

  const app = await startHttpApp({ service: o.service, module: parts.module, port: o.port, host: o.host, logger, readiness });
  const subscriptions: Subscription[] = [];
  const started: ServiceWorker[] = [];
  const stopAll = async () => {
    for (const w of [...started].reverse().filter((w) => after.includes(w))) await w.stop();
    await Promise.all(subscriptions.map((s) => s.close()));
    await relay.stop();
    for (const w of [...started].reverse().filter((w) => before.includes(w))) await w.stop();
    await app.close();
  };
  try {
    relay.start();
    for (const w of before) {
      await w.start();
      started.push(w);
    }
    for (const c of parts.consumers) subscriptions.push(await startTransactionalConsumer({ ...c, broker, db, relay, logger }));
    for (const open of parts.extraSubscriptions ?? []) subscriptions.push(await open());
    await Promise.all(subscriptions.map((s) => s.ready));
    for (const w of after) {
      await w.start();
      started.push(w);
    }
  } catch (err) {
    await stopAll().catch((e: unknown) => logger.warn({ err: e }, 'stopping a service that failed to start failed too'));
    throw err;
  }
  readiness.markReady(CONSUMER_PART);

  return {
    app,
    relay,
    readiness,
    stop: stopOnce(async () => {
      readiness.markNotReady(CONSUMER_PART, 'shutting down');
      await stopAll();
    }),
  };
}
