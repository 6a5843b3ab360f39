import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';

/** Where `npm run build` puts the single-page app (apps/web/dist), seen from apps/gateway/dist/web. */
export const WEB_DIST_DIR = join(__dirname, '..', '..', '..', 'web', 'dist');

/**
 * The SPA's own client-side routes. Each is answered with index.html; nothing else is, so an unknown
 * path (and every /api, /orders and /health route) keeps the gateway's 404 JSON. Keep in step with
 * apps/web/src/routes.ts.
 */
export const WEB_ROUTES: readonly string[] = [
  '/',
  '/sign-in',
  '/shop',
  '/cart',
  '/pay/:orderId',
  '/history',
  '/wallet',
  '/operator',
  '/operator/sagas/:sagaId',
  '/operator/dead-letters',
];

/**
 * Serves the web UI: the built files (hashed assets cached for a year, index.html never cached) and
 * index.html on the client-side routes. Without a build (apps/web/dist missing) the gateway runs
 * without a UI and says so.
 *
 * @example
 * await registerWebUi(fastify, logger);
 */
export async function registerWebUi(fastify: FastifyInstance, logger: Logger, root = WEB_DIST_DIR): Promise<void> {
  if (!existsSync(join(root, 'index.html'))) {
    logger.warn({ root }, 'web UI not built (npm run build builds apps/web): serving the API only');
    return;
  }
  // A route per file found at start (wildcard: false): unknown paths stay 404 JSON.
  await fastify.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    index: false,
    decorateReply: true,
    setHeaders: (res, path) => {
      void res.header('cache-control', path.startsWith(join(root, 'assets')) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  for (const route of WEB_ROUTES) {
    fastify.get(route, (_req, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html'));
  }
}
