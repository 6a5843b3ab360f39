import { ErrorCode } from '@saga/contracts';

export interface StockLine {
  productId: string;
  quantity: number;
}

export type StockCommand =
  | { type: 'ReserveStock'; orderId: string; items: readonly StockLine[] }
  | { type: 'ReleaseStock'; orderId: string }
  | { type: 'CommitStock'; orderId: string }
  | { type: 'CheckStock'; orderId: string; items: readonly StockLine[] }
  | { type: 'ReturnStock'; orderId: string };

/** RETURNED: the order was returned and its units are available again (return saga). */
export type ReservationStatus = 'RESERVED' | 'RELEASED' | 'COMMITTED' | 'REJECTED' | 'RETURNED';

export interface Reservation {
  orderId: string;
  status: ReservationStatus;
  items: StockLine[];
  failureCode: string | null;
  failureReason: string | null;
}

export interface StockLevel {
  id: string;
  available: number;
  reserved: number;
  sold: number;
}

/** What to answer for one command; `reply: null` means no reply (a saga bug, logged with `problem`). */
export type StockOutcome =
  | { reply: 'StockReserved' | 'StockReleased' | 'StockCommitted' | 'StockReturned' }
  | { reply: 'StockReservationFailed' | 'StockUnavailable'; code: ErrorCode; reason: string }
  | { reply: 'StockAvailable' }
  | { reply: null; problem: string };

export interface StockPlan {
  /** One per command, in command order. */
  outcomes: StockOutcome[];
  /** Reservations created or changed, to upsert. */
  reservations: Reservation[];
  /** Net change per product, to add. */
  deltas: StockLevel[];
}

/** Sums quantities of repeated products so one product is checked once. */
export function mergeLines(items: readonly StockLine[]): StockLine[] {
  const byId = new Map<string, number>();
  for (const i of items) byId.set(i.productId, (byId.get(i.productId) ?? 0) + i.quantity);
  return [...byId].map(([productId, quantity]) => ({ productId, quantity }));
}

/**
 * Decides a whole batch of stock commands in memory, in order, given the current (locked)
 * reservations and stock levels, so the batch costs a fixed number of statements.
 * Idempotent per order: a repeated command answers the recorded outcome; ReleaseStock before any
 * reservation leaves a RELEASED tombstone, so a late ReserveStock fails and holds nothing.
 *
 * @example
 * const plan = planStockBatch([{ type: 'ReserveStock', orderId: 'O1', items }], reservations, stock);
 */
export function planStockBatch(
  commands: readonly StockCommand[],
  current: ReadonlyMap<string, Reservation>,
  levels: ReadonlyMap<string, StockLevel>,
): StockPlan {
  const reservations = new Map<string, Reservation>();
  const stock = new Map<string, StockLevel>();
  const reservationOf = (orderId: string) => reservations.get(orderId) ?? current.get(orderId);
  const levelOf = (id: string) => {
    let level = stock.get(id);
    if (!level) {
      const found = levels.get(id);
      if (!found) return undefined;
      stock.set(id, (level = { ...found }));
    }
    return level;
  };

  const outcomes = commands.map((cmd): StockOutcome => {
    const existing = reservationOf(cmd.orderId);
    switch (cmd.type) {
      case 'CheckStock': {
        // Read-only (saga v2's check before the reservation): holds nothing, changes nothing.
        if (existing?.status === 'RESERVED' || existing?.status === 'COMMITTED') return { reply: 'StockAvailable' };
        const failure = shortage(mergeLines(cmd.items), levelOf);
        return failure ? { reply: 'StockUnavailable', ...failure } : { reply: 'StockAvailable' };
      }
      case 'ReserveStock': {
        if (existing) return recordedReservation(existing);
        const items = mergeLines(cmd.items);
        const failure = shortage(items, levelOf);
        if (failure) {
          reservations.set(cmd.orderId, { orderId: cmd.orderId, status: 'REJECTED', items, failureCode: failure.code, failureReason: failure.reason });
          return { reply: 'StockReservationFailed', ...failure };
        }
        for (const i of items) {
          const level = levelOf(i.productId)!;
          level.available -= i.quantity;
          level.reserved += i.quantity;
        }
        reservations.set(cmd.orderId, { orderId: cmd.orderId, status: 'RESERVED', items, failureCode: null, failureReason: null });
        return { reply: 'StockReserved' };
      }
      case 'ReleaseStock': {
        if (!existing) {
          reservations.set(cmd.orderId, { orderId: cmd.orderId, status: 'RELEASED', items: [], failureCode: null, failureReason: null });
          return { reply: 'StockReleased' };
        }
        if (existing.status === 'COMMITTED') {
          return { reply: null, problem: `ReleaseStock for order ${cmd.orderId} whose stock is already sold` };
        }
        if (existing.status === 'RESERVED') {
          for (const i of existing.items) {
            const level = levelOf(i.productId);
            if (!level) continue;
            level.available += i.quantity;
            level.reserved -= i.quantity;
          }
          reservations.set(cmd.orderId, { ...existing, status: 'RELEASED' });
        }
        // RELEASED again, or REJECTED (nothing was held): nothing to give back.
        return { reply: 'StockReleased' };
      }
      case 'ReturnStock': {
        if (existing?.status === 'RETURNED') return { reply: 'StockReturned' };
        if (existing?.status !== 'COMMITTED' && existing?.status !== 'RESERVED') {
          return { reply: null, problem: `ReturnStock for order ${cmd.orderId} whose reservation is ${existing?.status ?? 'missing'}` };
        }
        // Sold units go back; so do units still reserved (the order was returned before the
        // place-order saga's CommitStock arrived, which then finds them RETURNED and does nothing).
        for (const i of existing.items) {
          const level = levelOf(i.productId);
          if (!level) continue;
          if (existing.status === 'COMMITTED') level.sold -= i.quantity;
          else level.reserved -= i.quantity;
          level.available += i.quantity;
        }
        reservations.set(cmd.orderId, { ...existing, status: 'RETURNED' });
        return { reply: 'StockReturned' };
      }
      case 'CommitStock': {
        if (existing?.status === 'COMMITTED' || existing?.status === 'RETURNED') return { reply: 'StockCommitted' };
        if (existing?.status !== 'RESERVED') {
          return { reply: null, problem: `CommitStock for order ${cmd.orderId} whose reservation is ${existing?.status ?? 'missing'}` };
        }
        for (const i of existing.items) {
          const level = levelOf(i.productId);
          if (!level) continue;
          level.reserved -= i.quantity;
          level.sold += i.quantity;
        }
        reservations.set(cmd.orderId, { ...existing, status: 'COMMITTED' });
        return { reply: 'StockCommitted' };
      }
    }
  });

  const deltas: StockLevel[] = [];
  for (const [id, after] of stock) {
    const before = levels.get(id)!;
    const d = { id, available: after.available - before.available, reserved: after.reserved - before.reserved, sold: after.sold - before.sold };
    if (d.available !== 0 || d.reserved !== 0 || d.sold !== 0) deltas.push(d);
  }
  return { outcomes, reservations: [...reservations.values()], deltas };
}

/** Why `items` cannot be had from the current levels: an unknown product, or too little available. */
function shortage(items: readonly StockLine[], levelOf: (id: string) => StockLevel | undefined): { code: ErrorCode; reason: string } | undefined {
  const missing = items.find((i) => !levelOf(i.productId));
  if (missing) return { code: ErrorCode.UnknownProduct, reason: `${missing.productId} does not exist` };
  const short = items.find((i) => (levelOf(i.productId)?.available ?? 0) < i.quantity);
  if (short) return { code: ErrorCode.OutOfStock, reason: `${short.productId} is not available` };
  return undefined;
}

function recordedReservation(r: Reservation): StockOutcome {
  switch (r.status) {
    case 'RESERVED':
    case 'COMMITTED':
    case 'RETURNED':
      return { reply: 'StockReserved' };
    case 'REJECTED':
      return {
        reply: 'StockReservationFailed',
        code: (r.failureCode as ErrorCode | null) ?? ErrorCode.OutOfStock,
        reason: r.failureReason ?? 'stock is not available',
      };
    case 'RELEASED':
      return { reply: 'StockReservationFailed', code: ErrorCode.Conflict, reason: `the stock of order ${r.orderId} was released` };
  }
}
