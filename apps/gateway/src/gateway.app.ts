import fastifyRateLimit from '@fastify/rate-limit';
import fastifyReplyFrom from '@fastify/reply-from';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppError, ErrorCode } from '@saga/contracts';
import { IDEMPOTENCY_KEY_HEADER, Readiness, REQUEST_ID_HEADER, startHttpApp, stopOnce } from '@saga/nest-kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { stringify as formEncode } from 'node:querystring';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { bearerToken, decide, field, isPublic, isSeedCall } from './auth/access-rules';
import { takeRequestQueryToken } from './auth/query-token';
import { UserDirectory, type Principal } from './auth/users';
import { TokenService } from './auth/token.service';
import { gatewayAccounts, type GatewayEnv } from './gateway.config';
import { GatewayModule } from './gateway.module';
import { openApiDocument } from './openapi/openapi.document';
import { newTraceparent, traceHeaders, tracingEnabled } from '@saga/telemetry';
import { SagaAdmission } from './admission';
import { isConnectionFailure, mayRetryElsewhere, UpstreamPool } from './upstream-pool';
import { UPSTREAM_ROUTES, type Upstream, type UpstreamRoute } from './upstream-routes';
import { registerWebUi } from './web/web-ui';

export const SERVICE = 'gateway';

interface RequestContext {
  id: string;
  principal: Principal | undefined;
  /** Set when a token was sent but is not valid: such a request is a 401 in every mode. */
  tokenError: string | undefined;
  upstream?: Upstream;
  /** The instance that answered (or the last one tried). */
  instance?: string;
}

export interface RunningGateway {
  app: NestFastifyApplication;
  readiness: Readiness;
  stop(): Promise<void>;
}

/** Per-request state, kept off Fastify's types; keyed by the raw request, which the request log also sees. */
const contexts = new WeakMap<IncomingMessage, RequestContext>();

function sendError(reply: FastifyReply, status: number, code: ErrorCode, message: string): FastifyReply {
  return reply.status(status).header('content-type', 'application/json; charset=utf-8').send({ code, message });
}

/**
 * The gateway: Nest on Fastify with the login route, and on the Fastify instance a request-id and
 * access-log hook, token checking, rate limits and a proxy route per path prefix of DESIGN §3.
 * Ready once every upstream answers its /health.
 */
export async function startGateway(env: GatewayEnv, logger: Logger): Promise<RunningGateway> {
  const pools: Record<Upstream, UpstreamPool> = {
    order: new UpstreamPool('order', env.ORDER_URL),
    inventory: new UpstreamPool('inventory', env.INVENTORY_URL),
    payment: new UpstreamPool('payment', env.PAYMENT_URL),
    wallet: new UpstreamPool('wallet', env.WALLET_URL),
    orchestrator: new UpstreamPool('orchestrator', env.ORCHESTRATOR_URL),
  };
  const upstreams = Object.keys(pools) as Upstream[];
  // With REDIS_URL the limits are shared only once Redis answers: until then (and while it is away)
  // the gateway still serves, uncounted (skipOnError), but reports not ready.
  const readiness = new Readiness(env.REDIS_URL === undefined ? upstreams : [...upstreams, 'redis']);
  let secret = env.JWT_SECRET;
  if (secret === undefined) {
    secret = TokenService.randomSecret();
    logger.warn('JWT_SECRET is not set: using a random secret for this run (tokens end with the process; set it to share tokens across instances)');
  }
  const tokens = new TokenService(secret, env.JWT_TTL_SECONDS);
  const users = UserDirectory.of(gatewayAccounts(env));
  const redis = env.REDIS_URL === undefined ? undefined : new Redis(env.REDIS_URL, { connectTimeout: 1_000, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis?.on('error', (err) => logger.warn({ err: err.message }, 'redis error'));
  redis?.on('ready', () => readiness.markReady('redis'));
  redis?.on('close', () => readiness.markNotReady('redis', 'disconnected'));

  // Open event streams would hold the server's close forever: they are cut at shutdown (the
  // client's EventSource reconnects, to another instance, with Last-Event-ID).
  const openStreams = new Set<FastifyReply['raw']>();
  const admission = new SagaAdmission({ maxInFlight: env.SAGA_ADMISSION_MAX, maxQueued: env.SAGA_ADMISSION_QUEUE });

  const configure = async (fastify: FastifyInstance): Promise<void> => {
    fastify.addHook('preClose', async () => {
      for (const raw of openStreams) raw.destroy();
    });
    fastify.addHook('onRequest', async (req, reply) => {
      // nest-kit kept a well-formed given id or made one; the services get it, and so does the client.
      const id = req.id;
      req.headers[REQUEST_ID_HEADER] = id;
      void reply.header(REQUEST_ID_HEADER, id);
      // Tracing off: the gateway still starts a trace context at the edge, so the logs of one
      // request and its saga share a trace id (with tracing on the server span is the root).
      if (!tracingEnabled() && typeof req.headers.traceparent !== 'string') req.headers.traceparent = newTraceparent();
      const ctx: RequestContext = { id, principal: undefined, tokenError: undefined };
      contexts.set(req.raw, ctx);
      const token = bearerToken(req.headers.authorization) ?? takeRequestQueryToken(req);
      if (token === undefined) return;
      try {
        ctx.principal = await tokens.verify(token);
      } catch (err) {
        ctx.tokenError = err instanceof Error ? err.message : 'invalid token';
      }
    });

    await fastify.register(fastifyRateLimit, {
      global: true,
      max: env.RATE_LIMIT_MAX,
      timeWindow: env.RATE_LIMIT_WINDOW_MS,
      ...(redis ? { redis, nameSpace: env.RATE_LIMIT_REDIS_PREFIX } : {}),
      // Counting must not fail requests when Redis is briefly away.
      skipOnError: true,
      allowList: (req) => req.url === '/health' || req.url === '/metrics',
      // After the body is parsed, so a demo-mode seed call counts against the customer it acts as.
      hook: 'preHandler',
      // Per client (token subject; in demo mode the seed call's customer; else address) and per route.
      keyGenerator: (req) => {
        const ctx = contexts.get(req.raw);
        const actingAs = isSeedCall(env.AUTH_MODE, req.method, req.url) ? field(req.body, 'customerId') : undefined;
        const client = ctx?.principal ? `sub:${ctx.principal.sub}` : typeof actingAs === 'string' ? `customer:${actingAs}` : `ip:${req.ip}`;
        return `${client}|${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}`;
      },
      errorResponseBuilder: (_req, context) =>
        new AppError(ErrorCode.RateLimited, `rate limit of ${context.max} requests exceeded, retry in ${context.after}`, {
          retryAfterSeconds: Math.ceil(context.ttl / 1000),
        }),
    });
    await fastify.register(fastifyReplyFrom, {
      undici: { connections: 128, pipelining: 1, keepAliveTimeout: 30_000, connectTimeout: 2_000 },
      disableRequestLogging: true,
    });
    // The public API's OpenAPI document and interactive docs (static document, no route scanning).
    const document = openApiDocument();
    await fastify.register(fastifySwagger, { mode: 'static', specification: { document: document as never } });
    await fastify.register(fastifySwaggerUi, { routePrefix: '/api/docs' });
    fastify.get('/api/openapi.json', async (_req, reply) => reply.header('content-type', 'application/json; charset=utf-8').send(document));
    // Before the proxy routes: an awaited register flushes Fastify's pending routes, and the proxy
    // routes must stay pending until Nest has set its error handler (bad JSON → 400 VALIDATION_FAILED).
    await registerWebUi(fastify, logger);
    for (const route of UPSTREAM_ROUTES) {
      fastify.all(route.path, (req, reply) => proxy(route, req, reply));
    }
  };

  /** Marks an instance out after a failed connection; the health poller brings it back. */
  function connectionFailed(upstream: Upstream, instance: string, code: string | undefined, message: string): void {
    if (isConnectionFailure(code) && pools[upstream].markDown(instance, code ?? message)) {
      logger.warn({ upstream, instance, reason: code ?? message }, 'upstream instance taken out');
    }
  }

  /** The order's owner, asked of the order service (a GET: retried on another instance). */
  async function ownerOf(orderId: string, requestId: string): Promise<{ status: number; customerId?: string }> {
    const tried = new Set<string>();
    for (;;) {
      const instance = pools.order.pick(tried) as string;
      tried.add(instance);
      try {
        const res = await fetch(`${instance}/api/orders/${encodeURIComponent(orderId)}`, {
          headers: { [REQUEST_ID_HEADER]: requestId },
          signal: AbortSignal.timeout(env.PROXY_TIMEOUT_MS),
        });
        const body = (await res.json().catch(() => undefined)) as { customerId?: unknown } | undefined;
        return { status: res.status, customerId: typeof body?.customerId === 'string' ? body.customerId : undefined };
      } catch (err) {
        const code = errorCode(err);
        connectionFailed('order', instance, code, (err as Error).message);
        if (!mayRetryElsewhere('GET', code) || pools.order.pick(tried) === undefined) throw err;
      }
    }
  }

  async function proxy(route: UpstreamRoute, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const ctx = contexts.get(req.raw) as RequestContext;
    const path = req.url.split('?')[0];
    if (ctx.tokenError !== undefined && !isPublic(req.method, path)) {
      return sendError(reply, 401, ErrorCode.Unauthorized, 'the bearer token is invalid or expired');
    }
    const decision = decide({
      mode: env.AUTH_MODE,
      principal: ctx.principal,
      method: req.method,
      path,
      query: (req.query ?? {}) as Record<string, unknown>,
      body: req.body,
    });
    if (decision.kind === 'deny') return sendError(reply, decision.status, decision.code, decision.message);
    if (decision.kind === 'order-owner') {
      let owner: { status: number; customerId?: string };
      try {
        owner = await ownerOf(decision.orderId, ctx.id);
      } catch (err) {
        logger.warn({ reqId: ctx.id, err: (err as Error).message }, 'order lookup failed');
        return sendError(reply, 503, ErrorCode.Unavailable, 'the order service is unavailable');
      }
      if (owner.status >= 500) return sendError(reply, 503, ErrorCode.Unavailable, 'the order service is unavailable');
      if (owner.customerId !== ctx.principal?.sub) {
        return decision.status === 404
          ? sendError(reply, 404, ErrorCode.NotFound, `order ${decision.orderId} not found`)
          : sendError(reply, 403, ErrorCode.Forbidden, `order ${decision.orderId} belongs to another customer`);
      }
    }
    ctx.upstream = route.upstream;
    // A saga-starting POST always carries an Idempotency-Key (the client's, or one made here), echoed
    // to the client: a retry, ours on another instance or the client's, cannot make a second order.
    const idempotencyKey = route.keyed?.(req.method, path) ? idempotencyKeyOf(req) : undefined;
    if (idempotencyKey !== undefined) void reply.header(IDEMPOTENCY_KEY_HEADER, idempotencyKey);
    const runsSaga = route.runsSaga?.(req.method, path) ?? false;
    if (runsSaga && !(await admission.admit(reply.raw))) {
      logger.warn({ reqId: ctx.id, inFlight: admission.inFlight, queued: admission.queued }, 'saga call turned away: admission queue full');
      void reply.header('retry-after', '1');
      return sendError(reply, 503, ErrorCode.Overloaded, `too many orders in progress (${admission.inFlight} running, ${admission.queued} waiting); retry shortly`);
    }
    // An event stream lives until its order ends: undici's header/body timeouts become an idle
    // timeout longer than the upstream heartbeat; reply-from pipes the body, so nothing is buffered.
    const stream = route.streams?.(req.method, path) ?? false;
    const timeout = stream ? env.STREAM_IDLE_TIMEOUT_MS : runsSaga ? env.SAGA_PROXY_TIMEOUT_MS : env.PROXY_TIMEOUT_MS;
    if (stream) {
      const raw = reply.raw;
      openStreams.add(raw);
      raw.once('close', () => openStreams.delete(raw));
    }
    const pool = pools[route.upstream];
    const tried = new Set<string>();
    const send = (instance: string): FastifyReply => {
      tried.add(instance);
      ctx.instance = instance;
      return reply.from(`${instance}${req.url}`, {
        timeout,
        ...forwardedForm(req),
        rewriteRequestHeaders: (_r, headers) => ({
          ...headers,
          ...traceHeaders(),
          [REQUEST_ID_HEADER]: ctx.id,
          'x-forwarded-for': req.ip,
          ...(idempotencyKey === undefined ? {} : { [IDEMPOTENCY_KEY_HEADER]: idempotencyKey }),
        }),
        onError: (r, { error }) => {
          const code = errorCode(error);
          connectionFailed(route.upstream, instance, code, error.message);
          const next = mayRetryElsewhere(req.method, code, idempotencyKey !== undefined) ? pool.pick(tried) : undefined;
          logger.warn({ reqId: ctx.id, upstream: route.upstream, instance, err: error.message, code, retry: next }, 'upstream call failed');
          if (next !== undefined) {
            send(next);
            return;
          }
          const timedOut = /timeout/i.test(`${error.name} ${(error as { code?: string }).code ?? ''} ${code ?? ''} ${error.message}`);
          if (timedOut) void sendError(r as FastifyReply, 504, ErrorCode.StepTimeout, `${route.upstream} service did not answer within ${timeout} ms`);
          else void sendError(r as FastifyReply, 503, ErrorCode.Unavailable, `${route.upstream} service is unavailable`);
        },
      });
    };
    return send(pool.pick() as string);
  }

  // Each request's log line (nest-kit) also names who asked and which instance answered.
  const requestLogFields = (raw: IncomingMessage) => {
    const ctx = contexts.get(raw);
    return { sub: ctx?.principal?.sub, upstream: ctx?.upstream, instance: ctx?.instance };
  };
  const app = await startHttpApp({ service: SERVICE, module: GatewayModule.register(users, tokens), port: env.PORT, host: env.HOST, logger, readiness, configure, requestLogFields });

  // Active health checks: every instance's /health is polled; an instance that fails leaves its
  // pool and rejoins on its next 200. The gateway is ready while each service has a healthy instance.
  let polling = true;
  const check = async (name: Upstream, instance: string): Promise<void> => {
    let reason: string | undefined;
    try {
      const res = await fetch(`${instance}/health`, { signal: AbortSignal.timeout(Math.max(500, env.HEALTH_INTERVAL_MS)) });
      await res.body?.cancel();
      if (res.status !== 200) reason = `health ${res.status}`;
    } catch {
      reason = 'unreachable';
    }
    if (reason === undefined) {
      if (pools[name].markUp(instance)) logger.info({ upstream: name, instance }, 'upstream instance back in');
    } else if (pools[name].markDown(instance, reason)) {
      logger.warn({ upstream: name, instance, reason }, 'upstream instance taken out');
    }
  };
  const poll = async (): Promise<void> => {
    await Promise.all(upstreams.flatMap((name) => pools[name].urls.map((instance) => check(name, instance))));
    for (const name of upstreams) {
      if (pools[name].available) readiness.markReady(name);
      else readiness.markNotReady(name, pools[name].downReasons().join('; '));
    }
  };
  const loop = (async () => {
    while (polling) {
      await poll();
      await new Promise((r) => setTimeout(r, env.HEALTH_INTERVAL_MS).unref());
    }
  })();

  return {
    app,
    readiness,
    stop: stopOnce(async () => {
      polling = false;
      await app.close();
      await loop;
      redis?.disconnect();
    }),
  };
}

/** The client's Idempotency-Key, as sent (the order service validates it: 400), or a new one when it sent none. */
function idempotencyKeyOf(req: FastifyRequest): string {
  const given = req.headers[IDEMPOTENCY_KEY_HEADER];
  return typeof given === 'string' ? given : randomUUID();
}

/**
 * Nest parses a form body (application/x-www-form-urlencoded) into a flat object, which reply-from
 * can only forward as JSON or raw text (it threw: a 500). Encode it back so the service judges it.
 */
function forwardedForm(req: FastifyRequest): { body: string; contentType: string } | undefined {
  const type = req.headers['content-type']?.split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded' || req.body === null || typeof req.body !== 'object') return undefined;
  return { body: formEncode(req.body as Record<string, string | string[]>), contentType: 'application/x-www-form-urlencoded' };
}

/** The code of an upstream error: undici's (`ECONNREFUSED`, `UND_ERR_SOCKET`...) on it or on its causes. */
function errorCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && !e.code.startsWith('FST_')) return e.code;
  }
  return undefined;
}
