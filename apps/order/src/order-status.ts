import { AppError, ErrorCode } from '@saga/contracts';

/** Order lifecycle of DESIGN §2. */
export const ORDER_STATUSES = [
  'INITIATED',
  'PAYMENT_PENDING',
  'PAYMENT_DONE',
  'PLACED',
  'ON_WAY',
  'DELIVERED',
  'FAILED',
  'CANCELED',
  // the return saga: a PLACED order on its way back (refund, restock), then returned
  'RETURN_PENDING',
  'RETURNED',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

const PRE_PLACED: readonly OrderStatus[] = ['INITIATED', 'PAYMENT_PENDING', 'PAYMENT_DONE'];

const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  INITIATED: ['PAYMENT_PENDING', 'FAILED', 'CANCELED'],
  PAYMENT_PENDING: ['PAYMENT_DONE', 'FAILED'],
  PAYMENT_DONE: ['PLACED', 'FAILED'],
  PLACED: ['ON_WAY', 'RETURN_PENDING'],
  ON_WAY: ['DELIVERED'],
  DELIVERED: [],
  FAILED: [],
  CANCELED: [],
  // back to PLACED when the return fails and is compensated (status info says why)
  RETURN_PENDING: ['RETURNED', 'PLACED'],
  RETURNED: [],
};

/**
 * Statuses announced on order.events (OrderStatusChanged): the order's milestones. The saga's
 * intermediate states (PAYMENT_PENDING, PAYMENT_DONE) are no event: nobody consumes them, and
 * they are in the order's history, its API and its event stream (SSE).
 */
export const ANNOUNCED_STATUSES: readonly OrderStatus[] = ['PLACED', 'ON_WAY', 'DELIVERED', 'FAILED', 'CANCELED', 'RETURNED'];

/**
 * Terminal outcomes of the order's sagas as the order sees them: the place-order saga's, and the
 * return saga's (RETURNED, or PLACED again after a failed return).
 */
export const SAGA_OUTCOMES: readonly OrderStatus[] = ['PLACED', 'FAILED', 'CANCELED', 'RETURNED'];

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Throws 409 INVALID_TRANSITION unless `from → to` is allowed. */
export function assertTransition(orderId: string, from: OrderStatus, to: OrderStatus): void {
  if (!canTransition(from, to)) {
    throw new AppError(ErrorCode.InvalidTransition, `order ${orderId} cannot go from ${from} to ${to}`, {
      from,
      to,
    });
  }
}

export function isPrePlaced(status: OrderStatus): boolean {
  return PRE_PLACED.includes(status);
}
