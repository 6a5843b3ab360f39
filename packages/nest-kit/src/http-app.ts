import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppError, ErrorCode, uuidv7 } from '@saga/contracts';
import { METRICS, METRICS_REGISTRY, SpanKind, SpanStatusCode, startSpan, startTracing, traceIdOf, tracingEnabled, withSpan, type Span } from '@saga/telemetry';
import { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
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
  /** Extra fields of a request's log line, read when it ends (the gateway adds the upstream instance). */
  requestLogFields?: (req: IncomingMessage) => Record<string, unknown>;
}

/** Header carrying the request id; the saga started by a request takes it as its correlation id. */
export const REQUEST_ID_HEADER = 'x-request-id';
/** Request header of a saga-starting call (IETF draft "The Idempotency-Key HTTP Header Field"): set by the client or the gateway, honoured by the order service. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

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
  startTracing(o.service);
  const readiness = o.readiness ?? new Readiness();
  const root: DynamicModule = {
    module: KitRootModule,
    global: true,
    // Failing checks show in /health's body; terminus's own error log would repeat them every poll.
    imports: [TerminusModule.forRoot({ logger: false }), o.module],
    controllers: [HealthController],
    providers: [
      { provide: Readiness, useValue: readiness },
      { provide: SERVICE_NAME, useValue: o.service },
    ],
    exports: [Readiness, SERVICE_NAME],
  };
  // Fastify's own pino integration, on the service's logger (per app, so the embedded mode's several
  // apps in one process keep their own `service`): `req.log` carries the request id as `reqId`.
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    loggerInstance: o.logger,
    // Fastify's two lines per request are off: observeHttp writes one, with the saga's ids.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    // A well-formed request id given by the caller is kept (the gateway's, a client's); else a new one.
    genReqId: (req: IncomingMessage) => {
      const given = req.headers[REQUEST_ID_HEADER];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : uuidv7();
    },
    frameworkErrors: routerError,
    // Requests that come in while closing get observeHttp's 503 in the house format instead.
    return503OnClosing: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(root, adapter, {
    logger: new PinoNestLogger(o.logger),
    abortOnError: false,
  });
  app.useGlobalFilters(new AppErrorFilter(o.logger));
  observeHttp(app.getHttpAdapter().getInstance(), o);
  await o.configure?.(app.getHttpAdapter().getInstance());
  installSignalHandlers(app, readiness, o);
  await app.listen({ port: o.port, host: o.host });
  return app;
}

/**
 * `GET /metrics` in Prometheus' text format, and a latency observation per request labelled with
 * the route's pattern (not the raw URL: ids would make a series per order), method and status.
 * With tracing on, each request is a server span, child of the caller's `traceparent`, active while
 * the request is handled (so the calls and messages it causes join its trace).
 */
function observeHttp(fastify: FastifyInstance, o: StartHttpAppOptions): void {
  const service = o.service;
  const started = new WeakMap<FastifyRequest, { t0: bigint; span?: Span; traceId: string | undefined }>();
  let closing = false;
  fastify.addHook('preClose', async () => {
    closing = true;
  });
  fastify.addHook('onRequest', (req, reply, done) => {
    const t0 = process.hrtime.bigint();
    if (closing) {
      // Shutting down: no new work; the client retries elsewhere (the gateway does for idempotent calls).
      started.set(req, { t0, traceId: undefined });
      void reply
        .status(503)
        .header('connection', 'close')
        .header('content-type', 'application/json; charset=utf-8')
        .send({ code: ErrorCode.Unavailable, message: `${service} is shutting down` });
      return;
    }
    const route = req.routeOptions.url;
    const given = typeof req.headers.traceparent === 'string' ? req.headers.traceparent : undefined;
    if (!tracingEnabled() || route === '/health' || route === '/metrics') {
      started.set(req, { t0, traceId: traceIdOf(given) });
      return done();
    }
    const span = startSpan(service, `${req.method} ${route ?? 'unmatched'}`, SpanKind.SERVER, given, {
      'http.request.method': req.method,
      'url.path': req.url.split('?')[0],
      'http.route': route ?? 'unmatched',
    });
    started.set(req, { t0, span, traceId: span.spanContext().traceId });
    // The rest of the request's lifecycle runs inside the span's context.
    withSpan(span, done);
  });
  fastify.addHook('onResponse', async (req, reply) => {
    const s = started.get(req);
    if (s === undefined) return;
    if (s.span) {
      s.span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) s.span.setStatus({ code: SpanStatusCode.ERROR });
      s.span.end();
    }
    const route = req.routeOptions.url ?? 'unmatched';
    if (route === '/metrics' || route === '/health') return;
    const seconds = Number(process.hrtime.bigint() - s.t0) / 1e9;
    METRICS.httpDuration.observe({ service, method: req.method, route, status: String(reply.statusCode) }, seconds);
    // One line per request: the request id is the correlation id of whatever saga it starts.
    req.log.info(
      {
        method: req.method,
        url: req.url,
        status: reply.statusCode,
        ms: Math.round(seconds * 10_000) / 10,
        correlationId: req.id,
        traceId: s.traceId,
        ...o.requestLogFields?.(req.raw),
      },
      'request',
    );
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
  const fastify = app.getHttpAdapter().getInstance();
  let cut: NodeJS.Timeout | undefined;
  fastify.addHook('preClose', async () => {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
    // Closing waits for every open connection: a keep-alive client that keeps sending (and gets
    // 503s) would hold it forever. In-flight requests get a grace period, then sockets are cut.
    cut = setTimeout(() => {
      o.logger.info({ graceMs: CLOSE_GRACE_MS }, 'closing the connections still open');
      fastify.server.closeAllConnections();
    }, CLOSE_GRACE_MS);
    cut.unref();
  });
  fastify.addHook('onClose', async () => clearTimeout(cut));
}

/** How long requests in flight at shutdown may take before their connections are cut. */
const CLOSE_GRACE_MS = 2_000;
