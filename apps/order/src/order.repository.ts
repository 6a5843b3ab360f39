import { keysetOrder } from '@saga/nest-kit';
import type { Queryable, Transaction } from '@saga/postgres';
import { keyScope, type IdempotencyKeyClaim, type KeyedOperation } from './idempotency-key';
import type { OrderStatus } from './order-status';

export interface OrderItemRow {
  productId: string;
  quantity: number;
  unitPriceCents: number;
}

export interface OrderRow {
  id: string;
  customerId: string;
  status: OrderStatus;
  statusInfo: string | null;
  failureCode: string | null;
  amountCents: number;
  currency: string;
  sagaStartedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** An order to insert, with its items. */
export interface NewOrder {
  id: string;
  customerId: string;
  amountCents: number;
  currency: string;
  expiresAt: Date;
  /** Its saga starts in the same transaction: the order is PAYMENT_PENDING at once. */
  sagaStarted: boolean;
  items: readonly OrderItemRow[];
}

export interface StatusHistoryRow {
  status: OrderStatus;
  statusInfo: string | null;
  at: Date;
}

/** One status change of an order, as a batch records it. */
export interface StatusChange {
  orderId: string;
  status: OrderStatus;
  statusInfo?: string | null;
  failureCode?: string | null;
}

export interface OrderDetails extends OrderRow {
  items: OrderItemRow[];
  history: StatusHistoryRow[];
}

/** Postgres NOTIFY channel announcing every status change of an order; payload `<status>:<order id>`. */
export const ORDER_STATUS_CHANNEL = 'order_status';

/** Reads a notification payload of ORDER_STATUS_CHANNEL (statuses hold no ':', ids may). */
export function parseStatusNotification(payload: string): { orderId: string; status: string } | undefined {
  const at = payload.indexOf(':');
  if (at <= 0 || at === payload.length - 1) return undefined;
  return { status: payload.slice(0, at), orderId: payload.slice(at + 1) };
}

/** One row of an order's status history with its id, the position an event stream resumes from. */
export interface StatusEventRow extends StatusHistoryRow {
  id: string;
}

const ORDER_COLUMNS = `id, customer_id AS "customerId", status, status_info AS "statusInfo",
  failure_code AS "failureCode", amount_cents AS "amountCents", currency,
  saga_started_at AS "sagaStartedAt", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** SQL of the order service: orders, their items and their status history. */
export class OrderRepository {
  /**
   * Inserts orders with their items and first history rows in one statement, whatever their number.
   * An order whose saga starts with it (`sagaStarted`) is PAYMENT_PENDING at once: its history
   * records INITIATED then PAYMENT_PENDING. Queued: it travels with the outbox insert after it.
   */
  insertMany(tx: Transaction, orders: readonly NewOrder[]): void {
    const items = orders.flatMap((o) => o.items.map((i, n) => ({ orderId: o.id, lineNo: n + 1, ...i })));
    const history = orders.flatMap((o) => (o.sagaStarted ? [[o.id, 'INITIATED'], [o.id, 'PAYMENT_PENDING']] : [[o.id, 'INITIATED']]));
    tx.queue(
      `WITH o AS (
         INSERT INTO orders (id, customer_id, status, amount_cents, currency, expires_at, saga_started_at)
         SELECT id, c, CASE WHEN s THEN 'PAYMENT_PENDING' ELSE 'INITIATED' END, a, cur, e, CASE WHEN s THEN now() END
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::timestamptz[], $6::boolean[]) AS t(id, c, a, cur, e, s)
         RETURNING id
       ), i AS (
         INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price_cents)
         SELECT * FROM unnest($7::text[], $8::int[], $9::text[], $10::int[], $11::bigint[])
       )
       INSERT INTO order_status_history (order_id, status)
       SELECT h.id, h.s FROM unnest($12::text[], $13::text[]) WITH ORDINALITY AS h(id, s, n) ORDER BY h.n`,
      [
        orders.map((o) => o.id),
        orders.map((o) => o.customerId),
        orders.map((o) => o.amountCents),
        orders.map((o) => o.currency),
        orders.map((o) => o.expiresAt),
        orders.map((o) => o.sagaStarted),
        items.map((i) => i.orderId),
        items.map((i) => i.lineNo),
        items.map((i) => i.productId),
        items.map((i) => i.quantity),
        items.map((i) => i.unitPriceCents),
        history.map((h) => h[0]),
        history.map((h) => h[1]),
      ],
    );
  }

  async find(db: Queryable, id: string): Promise<OrderRow | undefined> {
    const res = await db.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1`, [id]);
    return res.rows[0];
  }

  async findForUpdate(tx: Queryable, id: string): Promise<OrderRow | undefined> {
    const res = await tx.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1 FOR UPDATE`, [id]);
    return res.rows[0];
  }

  /** Orders with their items and status histories, in one query whatever their number. */
  async findDetailsMany(db: Queryable, ids: readonly string[]): Promise<Map<string, OrderDetails>> {
    const res = await db.query<OrderRow & { items: OrderItemRow[]; history: (Omit<StatusHistoryRow, 'at'> & { at: string })[] }>(
      `SELECT ${ORDER_COLUMNS},
         (SELECT coalesce(json_agg(json_build_object('productId', product_id, 'quantity', quantity,
            'unitPriceCents', unit_price_cents) ORDER BY line_no), '[]') FROM order_items WHERE order_id = o.id) AS items,
         (SELECT coalesce(json_agg(json_build_object('status', status, 'statusInfo', status_info, 'at', at) ORDER BY h.id), '[]')
            FROM order_status_history h WHERE order_id = o.id) AS history
       FROM orders o WHERE id = ANY($1::text[])`,
      [ids],
    );
    return new Map(res.rows.map((row) => [row.id, { ...row, history: row.history.map((h) => ({ ...h, at: new Date(h.at) })) }]));
  }

  /**
   * One page of a customer's order ids in (created_at, id) order after the keyset position `after`
   * (created_at as PostgreSQL's text, which keeps its microseconds).
   */
  async listByCustomer(
    db: Queryable,
    o: { customerId: string; limit: number; after: readonly [string, string] | undefined; sort: 'asc' | 'desc' },
  ): Promise<{ id: string; createdAt: string }[]> {
    const { after, direction } = keysetOrder(o.sort);
    const res = await db.query<{ id: string; createdAt: string }>(
      `SELECT id, created_at::text AS "createdAt" FROM orders
       WHERE customer_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) ${after} ($2::timestamptz, $3::text))
       ORDER BY created_at ${direction}, id ${direction} LIMIT $4`,
      [o.customerId, o.after?.[0] ?? null, o.after?.[1] ?? null, o.limit],
    );
    return res.rows;
  }

  async items(db: Queryable, id: string): Promise<OrderItemRow[]> {
    const res = await db.query<OrderItemRow>(
      `SELECT product_id AS "productId", quantity, unit_price_cents AS "unitPriceCents"
       FROM order_items WHERE order_id = $1 ORDER BY line_no`,
      [id],
    );
    return res.rows;
  }

  /**
   * Moves the order to `to` if its status is one of `from`; records the history row and notifies
   * waiting HTTP calls and event streams on every instance (NOTIFY is delivered at commit).
   */
  async transition(
    tx: Queryable,
    id: string,
    from: readonly OrderStatus[],
    to: OrderStatus,
    info: { statusInfo?: string | null; failureCode?: string | null } = {},
  ): Promise<OrderRow | undefined> {
    const res = await tx.query<OrderRow>(
      `UPDATE orders SET status = $3, status_info = COALESCE($4, status_info), failure_code = COALESCE($5, failure_code),
         updated_at = now()
       WHERE id = $1 AND status = ANY($2::text[]) RETURNING ${ORDER_COLUMNS}`,
      [id, from, to, info.statusInfo ?? null, info.failureCode ?? null],
    );
    const row = res.rows[0];
    if (!row) return undefined;
    await tx.query(`INSERT INTO order_status_history (order_id, status, status_info) VALUES ($1, $2, $3)`, [
      id,
      to,
      info.statusInfo ?? null,
    ]);
    await tx.query(`SELECT pg_notify($1, $2)`, [ORDER_STATUS_CHANNEL, `${to}:${id}`]);
    return row;
  }

  /**
   * History rows of an order after row `afterId` (event-stream resume point), oldest first; without
   * `afterId`, only the latest row (the current status).
   */
  async statusEvents(db: Queryable, orderId: string, afterId?: string): Promise<StatusEventRow[]> {
    const res = afterId === undefined
      ? await db.query<StatusEventRow>(
          `SELECT id::text AS id, status, status_info AS "statusInfo", at FROM order_status_history
           WHERE order_id = $1 ORDER BY id DESC LIMIT 1`,
          [orderId],
        )
      : await db.query<StatusEventRow>(
          `SELECT id::text AS id, status, status_info AS "statusInfo", at FROM order_status_history
           WHERE order_id = $1 AND id > $2::bigint ORDER BY id`,
          [orderId, afterId],
        );
    return res.rows;
  }

  /** Locks a batch's orders (in id order, so concurrent batches cannot deadlock). */
  async lockMany(tx: Queryable, ids: readonly string[]): Promise<Map<string, OrderRow>> {
    const res = await tx.query<OrderRow>(
      `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
      [ids],
    );
    return new Map(res.rows.map((r) => [r.id, r]));
  }

  /**
   * Writes a batch's status changes with three statements whatever its size: each order's final
   * state, every history row in order, and one notification per order (its final status).
   */
  /** Queued (`Transaction.queue`): the three statements travel with the outbox insert after them. */
  applyChanges(tx: Transaction, changes: readonly StatusChange[]): void {
    if (changes.length === 0) return;
    const last = new Map<string, StatusChange>();
    const info = new Map<string, { statusInfo: string | null; failureCode: string | null }>();
    for (const c of changes) {
      last.set(c.orderId, c);
      const prev = info.get(c.orderId);
      info.set(c.orderId, {
        statusInfo: c.statusInfo ?? prev?.statusInfo ?? null,
        failureCode: c.failureCode ?? prev?.failureCode ?? null,
      });
    }
    const ids = [...last.keys()];
    tx.queue(
      `UPDATE orders o SET status = d.s, status_info = COALESCE(d.i, o.status_info),
         failure_code = COALESCE(d.c, o.failure_code), updated_at = now()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS d(id, s, i, c)
       WHERE o.id = d.id AND o.id = ANY($1::text[])`,
      [ids, ids.map((id) => last.get(id)!.status), ids.map((id) => info.get(id)!.statusInfo), ids.map((id) => info.get(id)!.failureCode)],
    );
    tx.queue(
      `INSERT INTO order_status_history (order_id, status, status_info)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`,
      [changes.map((c) => c.orderId), changes.map((c) => c.status), changes.map((c) => c.statusInfo ?? null)],
    );
    tx.queue(`SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`, [
      ORDER_STATUS_CHANNEL,
      ids.map((id) => `${last.get(id)!.status}:${id}`),
    ]);
  }

  /**
   * Claims the right to start the saga of an INITIATED order (once): the order becomes
   * PAYMENT_PENDING in the transaction that writes the saga's start event.
   */
  async markSagaStarted(tx: Queryable, id: string): Promise<OrderRow | undefined> {
    const claimed = await tx.query(
      `UPDATE orders SET saga_started_at = now(), updated_at = now()
       WHERE id = $1 AND status = 'INITIATED' AND saga_started_at IS NULL`,
      [id],
    );
    return claimed.rowCount === 1 ? this.transition(tx, id, ['INITIATED'], 'PAYMENT_PENDING') : undefined;
  }

  /**
   * Claims idempotency keys (distinct per customer) for `ttlMs`, in one statement whatever their
   * number; a key another transaction holds waits for it (keys are taken in one order, so two
   * batches of several instances cannot deadlock). Returns the scopes (`keyScope`) of the keys
   * claimed: one already held and not expired is not claimed; an expired one is taken over.
   */
  async claimIdempotencyKeys(tx: Queryable, claims: readonly IdempotencyKeyClaim[], ttlMs: number): Promise<Set<string>> {
    if (claims.length === 0) return new Set();
    const res = await tx.query<{ customerId: string; key: string }>(
      `INSERT INTO idempotency_keys (customer_id, key, operation, request_hash, order_id, expires_at)
       SELECT c, k, op, h, o, now() + $6::bigint * interval '1 millisecond'
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(c, k, op, h, o)
       ORDER BY c, k
       ON CONFLICT (customer_id, key) DO UPDATE SET operation = EXCLUDED.operation, request_hash = EXCLUDED.request_hash,
         order_id = EXCLUDED.order_id, created_at = now(), expires_at = EXCLUDED.expires_at
       WHERE idempotency_keys.expires_at <= now()
       RETURNING customer_id AS "customerId", key`,
      [
        claims.map((c) => c.customerId),
        claims.map((c) => c.key),
        claims.map((c) => c.operation),
        claims.map((c) => c.requestHash),
        claims.map((c) => c.orderId),
        ttlMs,
      ],
    );
    return new Set(res.rows.map(keyScope));
  }

  /** The held keys among `scopes`, by `keyScope`. */
  async findIdempotencyKeys(db: Queryable, scopes: readonly Pick<IdempotencyKeyClaim, 'customerId' | 'key'>[]): Promise<Map<string, IdempotencyKeyClaim>> {
    if (scopes.length === 0) return new Map();
    const res = await db.query<IdempotencyKeyClaim>(
      `SELECT customer_id AS "customerId", key, operation, request_hash AS "requestHash", order_id AS "orderId"
       FROM idempotency_keys WHERE (customer_id, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [scopes.map((s) => s.customerId), scopes.map((s) => s.key)],
    );
    return new Map(res.rows.map((r) => [keyScope(r), { ...r, operation: r.operation as KeyedOperation }]));
  }

  /** Removes up to `limit` expired idempotency keys; returns how many. */
  async deleteExpiredIdempotencyKeys(db: Queryable, limit: number): Promise<number> {
    // A join on the primary key (an IN here was planned as a scan of every expired row); expires_at
    // is checked on the row deleted too, so a key taken over meanwhile stays.
    const res = await db.query(
      `DELETE FROM idempotency_keys k
       USING (SELECT customer_id, key FROM idempotency_keys WHERE expires_at <= now() ORDER BY expires_at LIMIT $1) d
       WHERE k.customer_id = d.customer_id AND k.key = d.key AND k.expires_at <= now()`,
      [limit],
    );
    return res.rowCount ?? 0;
  }

  /** Ids of INITIATED orders never paid whose expiry has passed, locked for this transaction. */
  async claimExpired(tx: Queryable, limit: number): Promise<string[]> {
    const res = await tx.query<{ id: string }>(
      `SELECT id FROM orders WHERE status = 'INITIATED' AND saga_started_at IS NULL AND expires_at <= now()
       ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
    return res.rows.map((r) => r.id);
  }
}
