import type { FastifyRequest } from 'fastify';

/** Query parameter that carries the bearer token of an event stream (EventSource cannot send headers). */
export const ACCESS_TOKEN_PARAM = 'access_token';

const EVENT_STREAM_PATH = /^\/api\/orders\/[^/]+\/events$/;

/**
 * The token of `GET /api/orders/{id}/events?access_token=…`, removed from the request URL so that it is
 * neither logged nor forwarded upstream. Only event streams take it (a browser's EventSource cannot
 * set an Authorization header); any other request, or one that has an Authorization header, gets undefined.
 *
 * @example
 * takeQueryToken('GET', '/api/orders/o-1/events?access_token=abc&x=1', false)
 * // { token: 'abc', url: '/api/orders/o-1/events?x=1' }
 */
export function takeQueryToken(method: string, url: string, hasAuthorization: boolean): { token: string; url: string } | undefined {
  if (method !== 'GET' || hasAuthorization) return undefined;
  const q = url.indexOf('?');
  if (q < 0 || !EVENT_STREAM_PATH.test(url.slice(0, q))) return undefined;
  const params = new URLSearchParams(url.slice(q + 1));
  const token = params.get(ACCESS_TOKEN_PARAM);
  if (token === null) return undefined;
  params.delete(ACCESS_TOKEN_PARAM);
  const rest = params.toString();
  return { token, url: rest.length > 0 ? `${url.slice(0, q)}?${rest}` : url.slice(0, q) };
}

/** {@link takeQueryToken} on a Fastify request: rewrites its URL in place and returns the token. */
export function takeRequestQueryToken(req: FastifyRequest): string | undefined {
  const taken = takeQueryToken(req.method, req.raw.url ?? req.url, req.headers.authorization !== undefined);
  if (taken === undefined) return undefined;
  req.raw.url = taken.url;
  const query = req.query as Record<string, unknown> | undefined;
  if (query && typeof query === 'object') delete query[ACCESS_TOKEN_PARAM];
  return taken.token;
}
