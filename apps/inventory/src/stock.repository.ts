import type { Queryable, Transaction } from '@saga/postgres';
import type { Reservation, StockLevel } from './stock.planner';

/**
 * Batched SQL of the stock commands: a fixed number of statements per batch, whatever its size, and
 * fewer round trips: the writes, and the lock before a read, are queued (`Transaction.queue`), so
 * they travel with the statement after them. Locks are always taken in the same order (orders,
 * then products by id) so batches of different partitions wait for each other instead of deadlocking.
 */
export class StockRepository {
  /**
   * Serialises work on these orders across transactions (an order's reservation row may not exist
   * yet, so a row lock is not enough), then reads their reservations in a fresh statement.
   */
  async lockReservations(tx: Transaction, orderIds: readonly string[]): Promise<Map<string, Reservation>> {
    const ids = [...new Set(orderIds)].sort();
    tx.queue(
      `SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(id, 7302) AS h FROM unnest($1::text[]) AS id) k ORDER BY h`,
      [ids],
    );
    const res = await tx.query<Reservation>(
      `SELECT order_id AS "orderId", status, items, failure_code AS "failureCode", failure_reason AS "failureReason"
       FROM reservations WHERE order_id = ANY($1::text[])`,
      [ids],
    );
    return new Map(res.rows.map((r) => [r.orderId, r]));
  }

  async lockStock(tx: Queryable, productIds: readonly string[]): Promise<Map<string, StockLevel>> {
    if (productIds.length === 0) return new Map();
    const res = await tx.query<StockLevel>(
      `SELECT id, available, reserved, sold FROM products WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
      [[...new Set(productIds)]],
    );
    return new Map(res.rows.map((r) => [r.id, r]));
  }

  saveReservations(tx: Transaction, rows: readonly Reservation[]): void {
    if (rows.length === 0) return;
    tx.queue(
      `INSERT INTO reservations (order_id, status, items, failure_code, failure_reason)
       SELECT o, s, i::jsonb, c, r FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(o, s, i, c, r)
       ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, items = excluded.items,
         failure_code = excluded.failure_code, failure_reason = excluded.failure_reason, updated_at = now()`,
      [
        rows.map((r) => r.orderId),
        rows.map((r) => r.status),
        rows.map((r) => JSON.stringify(r.items)),
        rows.map((r) => r.failureCode),
        rows.map((r) => r.failureReason),
      ],
    );
  }

  applyDeltas(tx: Transaction, deltas: readonly StockLevel[]): void {
    if (deltas.length === 0) return;
    tx.queue(
      `UPDATE products p SET available = p.available + d.a, reserved = p.reserved + d.r, sold = p.sold + d.s, updated_at = now()
       FROM unnest($1::text[], $2::int[], $3::int[], $4::int[]) AS d(id, a, r, s) WHERE p.id = d.id`,
      [deltas.map((d) => d.id), deltas.map((d) => d.available), deltas.map((d) => d.reserved), deltas.map((d) => d.sold)],
    );
  }
}
