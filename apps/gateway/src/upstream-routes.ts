/** The services the gateway forwards to. */
export type Upstream = 'order' | 'inventory' | 'payment' | 'wallet' | 'orchestrator';

export interface UpstreamRoute {
  /** Fastify route path the gateway registers (every method). */
  path: string;
  upstream: Upstream;
  /** Calls that run a saga wait for its outcome upstream: they get the longer timeout. */
  runsSaga?: (method: string, path: string) => boolean;
  /** Long-lived event streams: no request timeout, only an idle timeout, and never buffered. */
  streams?: (method: string, path: string) => boolean;
  /**
   * POSTs the service makes idempotent by their `Idempotency-Key`: the gateway sets one when the
   * client sent none, so it may retry them on another instance even after the connection was cut.
   */
  keyed?: (method: string, path: string) => boolean;
}

/** Saga-starting calls: the seed order, the payment (place-order saga) and the return (return saga). */
const SAGA_CALL = (method: string, path: string): boolean =>
  method === 'POST' && (path === '/orders' || path === '/api/payment' || /^\/api\/orders\/[^/]+\/(payment|return)$/.test(path));

/** Saga-starting calls and the creation of an order (its first step): the order service honours their key. */
const KEYED_CALL = (method: string, path: string): boolean => SAGA_CALL(method, path) || (method === 'POST' && path === '/api/orders');

const EVENT_STREAM = (method: string, path: string): boolean => method === 'GET' && /^\/api\/orders\/[^/]+\/events$/.test(path);

/** Path prefixes of DESIGN §3 and the service behind each; anything else is a 404 at the gateway. */
export const UPSTREAM_ROUTES: readonly UpstreamRoute[] = [
  { path: '/orders', upstream: 'order', runsSaga: SAGA_CALL, keyed: KEYED_CALL },
  { path: '/api/orders', upstream: 'order', keyed: KEYED_CALL },
  { path: '/api/orders/*', upstream: 'order', runsSaga: SAGA_CALL, streams: EVENT_STREAM, keyed: KEYED_CALL },
  { path: '/api/payment', upstream: 'order', runsSaga: SAGA_CALL, keyed: KEYED_CALL },
  { path: '/api/products', upstream: 'inventory' },
  { path: '/api/products/*', upstream: 'inventory' },
  { path: '/api/wallets/*', upstream: 'wallet' },
  { path: '/api/payments', upstream: 'payment' },
  { path: '/api/sagas', upstream: 'orchestrator' },
  { path: '/api/sagas/*', upstream: 'orchestrator' },
  { path: '/api/dead-letters', upstream: 'orchestrator' },
  { path: '/api/dead-letters/*', upstream: 'orchestrator' },
];

/** Environment variable holding each upstream's base URL. */
export const UPSTREAM_URL_VARS = {
  order: 'ORDER_URL',
  inventory: 'INVENTORY_URL',
  payment: 'PAYMENT_URL',
  wallet: 'WALLET_URL',
  orchestrator: 'ORCHESTRATOR_URL',
} as const satisfies Record<Upstream, string>;
