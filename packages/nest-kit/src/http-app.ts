import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppError, ErrorCode } from '@saga/contracts';
import { METRICS, METRICS_REGISTRY } from '@saga/telemetry';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { AppErrorFilter } from './app-error.filter';
import { HealthController, SERVICE_NAME } from './health.controller';
import { PinoNestLogger } from './logger';
import { Readiness } from './readiness';

/** Largest accepted request body: every API here takes small JSON documents. */
export const BODY_LIMIT_BYTES = 256 * 1024;

@Module({})
class KitRootModule {}

export interface StartHttpAppOptions {
  service: string;
  /** The service's Nest module (a class or a dynamic module). */
  module: any;
  port: number;
  host: string;
  logger: Logger;
  /** Readiness behind `GET /health`; also injectable as `Readiness`. A new one when omitted. */
  readiness?: Readiness;
  /**
   * Runs on SIGTERM/SIGINT before the HTTP server closes (stop consumers, relays...). After it the
   * app closes (Nest shutdown hooks run) and the process exits. When the process registered its
   * own handler for the signal, that handler owns the shutdown and this one only marks not-ready.
   */
  onShutdown?: () => Promise<void>;
  /**
   * Runs on the Fastify instance after Nest created it and before the app initialises and listens:
   * the place to register Fastify plugins, hooks and raw routes (the gateway's proxy and limits).
   */
  configure?: (fastify: FastifyInstance) => Promise<void> | void;
}

/**
 * Starts a Nest app on Fastify with the kit's conventions: 256 KiB body limit, global
 * {@link AppErrorFilter}, `GET /health` from {@link Readiness}, `GET /metrics` (Prometheus) with
 * every request's latency by route and status, pino for Nest's logs, shutdown hooks.
 * Listening does not make the service ready: mark its parts ready once they are.
 *
 * @example
 * const readiness = new Readiness(['db']);
 * const app = await startHttpApp({ service: 'wallet', module: WalletModule.register(db), port: 3004,
 *   host: '127.0.0.1', logger, readiness });
 * readiness.markReady('db');
 */
export async function startHttpApp(o: StartHttpAppOptions): Promise<NestFastifyApplication> {
  const readiness = o.readiness ?? new Readiness();
  const root: DynamicModule = {
    module: KitRootModule,
    global: true,
    imports: [o.module],
    controllers: [HealthController],
    providers: [
      { provide: Readiness, useValue: readiness },
      { provide: SERVICE_NAME, useValue: o.service },
    ],
    exports: [Readiness, SERVICE_NAME],
  };
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, logger: false, frameworkErrors: routerError });
  const app = await NestFactory.create<NestFastifyApplication>(root, adapter, {
    logger: new PinoNestLogger(o.logger),
    abortOnError: false,
  });
  app.useGlobalFilters(new AppErrorFilter(o.logger));
  observeHttp(app.getHttpAdapter().getInstance(), o.service);
  await o.configure?.(app.getHttpAdapter().getInstance());
  installSignalHandlers(app, readiness, o);
  await app.listen({ port: o.port, host: o.host });
  return app;
}

/**
 * `GET /metrics` in Prometheus' text format, and a latency observation per request labelled with
 * the route's pattern (not the raw URL: ids would make a series per order), method and status.
 */
function observeHttp(fastify: FastifyInstance, service: string): void {
  const started = new WeakMap<FastifyRequest, bigint>();
  fastify.addHook('onRequest', async (req) => {
    started.set(req, process.hrtime.bigint());
  });
  fastify.addHook('onResponse', async (req, reply) => {
    const t0 = started.get(req);
    if (t0 === undefined) return;
    const route = req.routeOptions.url ?? 'unmatched';
    if (route === '/metrics') return;
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    METRICS.httpDuration.observe({ service, method: req.method, route, status: String(reply.statusCode) }, seconds);
  });
  fastify.get('/metrics', async (_req, reply) => {
    const text = await METRICS_REGISTRY.metrics();
    return reply.header('content-type', METRICS_REGISTRY.contentType).send(text);
  });
}

/**
 * The router refuses a malformed URL or an over-long path segment (over 100 characters) before Nest
 * sees the request, so no filter runs; without this it answered Fastify's own body (a 414 with code
 * FST_ERR_MAX_PARAM_LENGTH). Both are the client's fault: 400 VALIDATION_FAILED in the house format.
 */
function routerError(error: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const err =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new AppError(ErrorCode.ValidationFailed, 'path: a segment is longer than 100 characters', { field: 'path' })
      : error.code === 'FST_ERR_BAD_URL'
        ? new AppError(ErrorCode.ValidationFailed, 'path: is not a valid URL', { field: 'path' })
        : new AppError(ErrorCode.Internal, 'internal error');
  void reply.status(err.status).header('content-type', 'application/json; charset=utf-8').send({ code: err.code, message: err.message, ...err.details });
}

function installSignalHandlers(app: NestFastifyApplication, readiness: Readiness, o: StartHttpAppOptions): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    readiness.markNotReady('http', 'shutting down');
    // Someone else listens for this signal: they own the shutdown sequence and the exit.
    if (closing || process.listenerCount(signal) > 1) return;
    closing = true;
    o.logger.info({ signal }, 'shutting down');
    void (async () => {
      try {
        await o.onShutdown?.();
        await app.close();
        process.exit(0);
      } catch (err) {
        o.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      }
    })();
  };
  const handlers = (['SIGTERM', 'SIGINT'] as const).map((signal) => {
    const handler = () => onSignal(signal);
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  // A closed app (tests close several in one process) must not leave listeners behind.
  const close = app.close.bind(app);
  app.close = async () => {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
    await close();
  };
}
