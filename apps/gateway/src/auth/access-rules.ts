import { ErrorCode } from '@saga/contracts';
import type { Principal } from './users';

export type AuthMode = 'demo' | 'required';

export interface AccessRequest {
  mode: AuthMode;
  /** Undefined when the request carries no token. */
  principal: Principal | undefined;
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, unknown>;
  body: unknown;
}

/**
 * What the gateway does with a request: forward it, refuse it, or forward it only if the order
 * belongs to the principal (the gateway asks the order service; otherwise `status`, 404 or 403).
 */
export type AccessDecision =
  | { kind: 'allow' }
  | { kind: 'deny'; status: 401 | 403; code: ErrorCode; message: string }
  | { kind: 'order-owner'; orderId: string; status: 403 | 404 };

const ALLOW: AccessDecision = { kind: 'allow' };
const unauthorized = (): AccessDecision => ({ kind: 'deny', status: 401, code: ErrorCode.Unauthorized, message: 'a bearer token is required' });
const forbidden = (message: string): AccessDecision => ({ kind: 'deny', status: 403, code: ErrorCode.Forbidden, message });

/** A field of a parsed JSON body, or undefined when the body is not an object. */
export function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

/** Catalog reads are public in every mode. */
export function isPublic(method: string, path: string): boolean {
  return (method === 'GET' || method === 'HEAD') && (path === '/api/products' || path.startsWith('/api/products/'));
}

/** The seed call of DESIGN §3, which demo mode lets through without a token (acting as its body's customer). */
export function isSeedCall(mode: AuthMode, method: string, path: string): boolean {
  return mode === 'demo' && method === 'POST' && path === '/orders';
}

/**
 * The gateway's access rules (pure), for the routes it forwards. Operators may do everything; a
 * customer only acts on their own orders, wallet and payments; without a token only the public
 * catalog passes, and in demo mode the seed `POST /orders`. (Login, health, the API document and the
 * web UI are the gateway's own routes and need no token.)
 *
 * @example
 * decide({ mode: 'required', principal: undefined, method: 'GET', path: '/api/sagas', query: {}, body: undefined })
 * // { kind: 'deny', status: 401, ... }
 */
export function decide(r: AccessRequest): AccessDecision {
  if (isPublic(r.method, r.path)) return ALLOW;
  const p = r.principal;
  if (p === undefined) return isSeedCall(r.mode, r.method, r.path) ? ALLOW : unauthorized();
  if (p.role === 'operator') return ALLOW;

  const segments = r.path.split('/').filter((s) => s.length > 0).map(decodeURIComponentSafe);
  const [first, second, third, fourth] = segments;

  // Seed call and order creation: a customer orders only for themselves.
  if (r.method === 'POST' && (r.path === '/orders' || r.path === '/api/orders')) {
    const customerId = field(r.body, 'customerId');
    return customerId === undefined || customerId === p.sub ? ALLOW : forbidden(`a customer token may only order for ${p.sub}`);
  }
  if (first !== 'api') return forbidden('not allowed for a customer');
  switch (second) {
    case 'orders': {
      if (third === undefined) {
        return r.method === 'GET' && r.query.customerId === p.sub ? ALLOW : forbidden(`a customer token may only list the orders of ${p.sub}`);
      }
      if (fourth === 'status' || segments.length > 4) return forbidden('changing an order status needs the operator role');
      return { kind: 'order-owner', orderId: third, status: 404 };
    }
    case 'payment': {
      const orderId = field(r.body, 'orderId');
      // Without an orderId the order service answers 400 for the body.
      return typeof orderId === 'string' && orderId.length > 0 ? { kind: 'order-owner', orderId, status: 404 } : ALLOW;
    }
    case 'wallets':
      return third === p.sub ? ALLOW : forbidden(`a customer token may only use the wallet of ${p.sub}`);
    case 'payments': {
      const orderId = r.query.orderId;
      return typeof orderId === 'string' && orderId.length > 0 ? { kind: 'order-owner', orderId, status: 403 } : forbidden('orderId is required');
    }
    case 'sagas':
      return forbidden('the saga view needs the operator role');
    default:
      return forbidden('not allowed for a customer');
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The bearer token of an Authorization header, or undefined when there is none. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : '';
}
