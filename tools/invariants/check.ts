/**
 * The invariant checker of DESIGN §6: reads the five services' databases and lists every violation.
 * Used by the chaos tests after each run, and by hand against the demo stack:
 *
 *   node tools/invariants/check.ts                 # demo databases (order_db, ...)
 *   node tools/invariants/check.ts --prefix e2e_x  # databases e2e_x_order_db, ...
 *   node tools/invariants/check.ts --embedded      # the embedded mode's PGlite (EMBEDDED_DATA_DIR), once it stopped
 *
 * Run it when the system is quiet (every saga had the time to end).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openPglite, PgliteDatabase } from '@saga/postgres';
import pg from 'pg';
import { BUS_SCHEMA, PGLITE_DIR, embeddedDataDir } from '../embedded/layout.ts';

export const SERVICES = ['order', 'inventory', 'payment', 'wallet', 'orchestrator'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Runs a read-only query on one service's database. */
export type ServiceQuery = <R>(service: ServiceName, sql: string) => Promise<R[]>;

export interface CheckOptions {
  /** Server URL, e.g. postgres://postgres@127.0.0.1:5432 (with `databases`, unless `query` is given). */
  serverUrl?: string;
  /** Database name of each service. */
  databases?: Record<ServiceName, string>;
  /** How to read a service's tables, instead of serverUrl + databases (e.g. the embedded PGlite). */
  query?: ServiceQuery;
  /** Units of each product before the run (available + reserved + sold); checked when given. */
  initialStock?: Record<string, number>;
}

export interface CheckResult {
  ok: boolean;
  violations: string[];
  counts: Record<string, number>;
}

/** Database names of a stack whose DB_NAMEs are `<prefix>_<service>_db` (or the demo names). */
export function databaseNames(prefix?: string): Record<ServiceName, string> {
  const out = {} as Record<ServiceName, string>;
  for (const s of SERVICES) out[s] = prefix ? `${prefix}_${s}_db` : `${s}_db`;
  return out;
}

async function rows<R>(serverUrl: string, database: string, sql: string): Promise<R[]> {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query(sql)).rows as R[];
  } finally {
    await client.end();
  }
}

/** Units of each product now (available + reserved + sold): take it before a run for I4. */
export async function stockSnapshot(serverUrl: string, inventoryDb: string): Promise<Record<string, number>> {
  const list = await rows<{ id: string; total: string }>(
    serverUrl,
    inventoryDb,
    'SELECT id, available + reserved + sold AS total FROM products',
  );
  return Object.fromEntries(list.map((r) => [r.id, Number(r.total)]));
}

const PLACED = new Set(['PLACED', 'ON_WAY', 'DELIVERED']);
/** The return saga's type (apps/orchestrator return-order.saga.ts). */
const RETURN_ORDER = 'ReturnOrder';
const ENDED_BADLY = new Set(['FAILED', 'CANCELED']);

export async function checkInvariants(o: CheckOptions): Promise<CheckResult> {
  const v: string[] = [];
  const q: ServiceQuery =
    o.query ??
    (<R>(service: ServiceName, sql: string) => {
      if (o.serverUrl === undefined || o.databases === undefined) throw new Error('checkInvariants needs serverUrl + databases, or query');
      return rows<R>(o.serverUrl, o.databases[service], sql);
    });

  const [orders, sagas, products, reservations, payments, ledger, wallets, walletTx, debits, outboxes] = await Promise.all([
    q<{ id: string; status: string; started: boolean; amount_cents: string }>('order', 'SELECT id, status, saga_started_at IS NOT NULL AS started, amount_cents FROM orders'),
    q<{ id: string; status: string; type: string; order_id: string | null }>('orchestrator', "SELECT id, status, type, data->>'orderId' AS order_id FROM saga_instances"),
    q<{ id: string; available: number; reserved: number; sold: number }>('inventory', 'SELECT id, available, reserved, sold FROM products'),
    q<{ order_id: string; status: string; items: { productId: string; quantity: number }[] }>(
      'inventory',
      'SELECT order_id, status, items FROM reservations',
    ),
    q<{ order_id: string; id: string; status: string; amount_cents: string }>('payment', 'SELECT order_id, id, status, amount_cents FROM payments'),
    q<{ order_id: string; type: string; n: string; cents: string }>(
      'payment',
      "SELECT order_id, type, count(*) AS n, sum(amount_cents) AS cents FROM payment_transactions WHERE status <> 'FAILED' GROUP BY order_id, type",
    ),
    q<{ customer_id: string; balance_cents: string }>('wallet', 'SELECT customer_id, balance_cents FROM wallets'),
    q<{ customer_id: string; reference: string | null; type: string; amount_cents: string }>(
      'wallet',
      'SELECT customer_id, reference, type, amount_cents FROM wallet_transactions',
    ),
    q<{ payment_id: string; status: string; amount_cents: string }>('wallet', 'SELECT payment_id, status, amount_cents FROM debits'),
    Promise.all(SERVICES.filter((s) => s !== 'wallet').map(async (s) => ({ s, n: Number((await q<{ n: string }>(s, 'SELECT count(*) AS n FROM outbox'))[0]!.n) }))),
  ]);

  // I1: every saga ended (COMPENSATION_FAILED is an end too, surfaced to operators).
  const sagaById = new Map(sagas.filter((s) => s.type !== RETURN_ORDER).map((s) => [s.id, s.status]));
  // Return sagas (id: the return's, not the order's) by order, and the orders they returned.
  const returnsOf = new Map<string, string[]>();
  for (const s of sagas) if (s.type === RETURN_ORDER && s.order_id) returnsOf.set(s.order_id, [...(returnsOf.get(s.order_id) ?? []), s.status]);
  for (const s of sagas) {
    if (!['COMPLETED', 'COMPENSATED', 'COMPENSATION_FAILED'].includes(s.status)) v.push(`I1 saga ${s.id} is ${s.status}`);
  }

  // I2: no duplicate effect.
  const perRef = new Map<string, number>();
  for (const t of walletTx) {
    if (!t.reference || (t.type !== 'DEBIT' && t.type !== 'REFUND')) continue;
    const k = `${t.type}:${t.reference}`;
    perRef.set(k, (perRef.get(k) ?? 0) + 1);
  }
  for (const [k, n] of perRef) if (n > 1) v.push(`I2 wallet has ${n} ${k.replace(':', ' rows for payment ')}`);
  for (const l of ledger) if (Number(l.n) > 1) v.push(`I2 payment ledger has ${l.n} ${l.type} rows for order ${l.order_id}`);
  const paymentsPerOrder = new Map<string, number>();
  for (const p of payments) paymentsPerOrder.set(p.order_id, (paymentsPerOrder.get(p.order_id) ?? 0) + 1);
  for (const [id, n] of paymentsPerOrder) if (n > 1) v.push(`I2 order ${id} has ${n} payments`);
  // I1 too: a parked payment (its wallet debit was slow) is finished or canceled, never left waiting.
  for (const p of payments) if (p.status === 'PENDING') v.push(`I1 payment ${p.id} of order ${p.order_id} is still PENDING`);

  // I3: money is conserved. Per wallet: balance = deposits - withdrawals - debits + refunds (the opening
  // balance is a DEPOSIT); across services: wallet debits - refunds = captured payments - refunds.
  const flow = new Map<string, number>();
  let walletNet = 0;
  for (const t of walletTx) {
    const sign = t.type === 'DEPOSIT' || t.type === 'REFUND' ? 1 : -1;
    flow.set(t.customer_id, (flow.get(t.customer_id) ?? 0) + sign * Number(t.amount_cents));
    if (t.type === 'DEBIT') walletNet += Number(t.amount_cents);
    if (t.type === 'REFUND') walletNet -= Number(t.amount_cents);
  }
  for (const w of wallets) {
    if (Number(w.balance_cents) !== (flow.get(w.customer_id) ?? 0)) {
      v.push(`I3 wallet ${w.customer_id} balance ${w.balance_cents} != its transactions ${flow.get(w.customer_id) ?? 0}`);
    }
  }
  let paymentNet = 0;
  for (const l of ledger) paymentNet += (l.type === 'PAYMENT' ? 1 : l.type === 'REFUND' ? -1 : 0) * Number(l.cents);
  if (walletNet !== paymentNet) v.push(`I3 wallet net debits ${walletNet} != payment ledger net ${paymentNet}`);
  // ... and the money kept is what the orders kept: the totals of the orders PLACED (or later) and not returned.
  const kept = orders.filter((x) => PLACED.has(x.status)).reduce((sum, x) => sum + Number(x.amount_cents), 0);
  if (walletNet !== kept) v.push(`I3 wallet net debits ${walletNet} != totals of the placed, not returned orders ${kept}`);

  // I4: stock is conserved and never negative; reserved/sold agree with the reservations.
  const held = new Map<string, { reserved: number; sold: number }>();
  for (const r of reservations) {
    for (const item of r.items ?? []) {
      const h = held.get(item.productId) ?? { reserved: 0, sold: 0 };
      if (r.status === 'RESERVED') h.reserved += item.quantity;
      if (r.status === 'COMMITTED') h.sold += item.quantity;
      held.set(item.productId, h);
    }
  }
  for (const p of products) {
    if (p.available < 0 || p.reserved < 0 || p.sold < 0) v.push(`I4 product ${p.id} has a negative count`);
    const h = held.get(p.id) ?? { reserved: 0, sold: 0 };
    if (p.reserved !== h.reserved) v.push(`I4 product ${p.id} reserved ${p.reserved} != reservations ${h.reserved}`);
    if (o.initialStock && p.id in o.initialStock) {
      const total = p.available + p.reserved + p.sold;
      if (total !== o.initialStock[p.id]) v.push(`I4 product ${p.id} total ${total} != initial ${o.initialStock[p.id]}`);
    }
  }

  // I5: services agree on every order whose saga started.
  const reservationOf = new Map(reservations.map((r) => [r.order_id, r.status]));
  const paymentOf = new Map(payments.map((p) => [p.order_id, p]));
  const debitOf = new Map(debits.map((d) => [d.payment_id, d.status]));
  for (const order of orders) {
    if (!order.started) continue;
    const reservation = reservationOf.get(order.id);
    const payment = paymentOf.get(order.id);
    const debit = payment ? debitOf.get(payment.id) : undefined;
    if (PLACED.has(order.status)) {
      if (reservation !== 'COMMITTED') v.push(`I5 order ${order.id} ${order.status} but reservation ${reservation}`);
      if (payment?.status !== 'COMPLETED') v.push(`I5 order ${order.id} ${order.status} but payment ${payment?.status}`);
      if (debit !== 'APPLIED') v.push(`I5 order ${order.id} ${order.status} but wallet debit ${debit}`);
      if (sagaById.get(order.id) !== 'COMPLETED') v.push(`I5 order ${order.id} ${order.status} but saga ${sagaById.get(order.id)}`);
    } else if (order.status === 'RETURNED') {
      // Returned: refunded exactly once (I2 counts the ledger rows), the wallet debit reversed, the stock back.
      if (reservation !== 'RETURNED') v.push(`I5 order ${order.id} RETURNED but reservation ${reservation}`);
      if (payment?.status !== 'REFUNDED') v.push(`I5 order ${order.id} RETURNED but payment ${payment?.status}`);
      if (debit !== 'REVERSED') v.push(`I5 order ${order.id} RETURNED but wallet debit ${debit}`);
      if (sagaById.get(order.id) !== 'COMPLETED') v.push(`I5 order ${order.id} RETURNED but its place-order saga ${sagaById.get(order.id)}`);
    } else if (ENDED_BADLY.has(order.status)) {
      if (reservation === 'RESERVED' || reservation === 'COMMITTED') v.push(`I5 order ${order.id} ${order.status} but stock ${reservation}`);
      if (payment?.status === 'COMPLETED') v.push(`I5 order ${order.id} ${order.status} but payment COMPLETED`);
      if (debit === 'APPLIED') v.push(`I5 order ${order.id} ${order.status} but wallet debit APPLIED`);
      const saga = sagaById.get(order.id);
      if (saga && saga !== 'COMPENSATED' && saga !== 'COMPENSATION_FAILED') v.push(`I5 order ${order.id} ${order.status} but saga ${saga}`);
    } else {
      // INITIATED with a saga, PAYMENT_PENDING, PAYMENT_DONE, or RETURN_PENDING: stuck while sagas are quiet
      v.push(`I5 order ${order.id} is still ${order.status}`);
    }
  }

  // I5 for returns: an order is RETURNED iff exactly one of its return sagas COMPLETED (the others,
  // failed returns, were compensated: the order went back to PLACED).
  for (const order of orders) {
    const completed = (returnsOf.get(order.id) ?? []).filter((s) => s === 'COMPLETED').length;
    if (order.status === 'RETURNED' && completed !== 1) v.push(`I5 order ${order.id} RETURNED but ${completed} completed return sagas`);
    if (order.status !== 'RETURNED' && completed > 0) v.push(`I5 order ${order.id} ${order.status} but a return saga COMPLETED`);
  }

  // I6: no committed message is lost: every outbox drained (the wallet is HTTP-only, no outbox), every started order reached the orchestrator.
  for (const { s, n } of outboxes) if (n > 0) v.push(`I6 ${s} outbox still holds ${n} messages`);
  for (const order of orders) if (order.started && !sagaById.has(order.id)) v.push(`I6 order ${order.id} started but has no saga`);

  const count = (list: { status: string }[], status: string) => list.filter((x) => x.status === status).length;
  return {
    ok: v.length === 0,
    violations: v,
    counts: {
      orders: orders.length,
      placed: orders.filter((x) => PLACED.has(x.status)).length,
      failed: count(orders, 'FAILED'),
      returned: count(orders, 'RETURNED'),
      returnSagas: sagas.filter((x) => x.type === RETURN_ORDER).length,
      sagas: sagas.length,
      completed: count(sagas, 'COMPLETED'),
      compensated: count(sagas, 'COMPENSATED'),
      compensationFailed: count(sagas, 'COMPENSATION_FAILED'),
    },
  };
}

/**
 * I1–I6 over the embedded mode's data (open it only while no `npm start` holds it), plus, for I6, the
 * durable message log: every record reached every consumer group of its topic.
 *
 * @example
 * const result = await checkEmbeddedInvariants('/tmp/run/embedded');
 */
export async function checkEmbeddedInvariants(dataDir: string, o: Pick<CheckOptions, 'initialStock'> = {}): Promise<CheckResult> {
  const pglite = await openPglite(join(dataDir, PGLITE_DIR));
  try {
    const names = databaseNames();
    const schemas = new Map<string, PgliteDatabase>();
    const on = async (schema: string) => schemas.get(schema) ?? schemas.set(schema, await PgliteDatabase.open(pglite, schema)).get(schema)!;
    const query: ServiceQuery = async <R>(service: ServiceName, sql: string) => (await (await on(names[service])).query<R>(sql)).rows;
    const result = await checkInvariants({ ...o, query });
    const pending = await (
      await on(BUS_SCHEMA)
    ).query<{ group_id: string; topic: string; partition: number; n: number }>(
      `SELECT p.group_id, p.topic, p.partition, count(*)::int AS n FROM bus_positions p
       JOIN bus_records r ON r.topic = p.topic AND r.partition = p.partition AND r."offset" >= p.next_offset
       GROUP BY p.group_id, p.topic, p.partition`,
    );
    for (const p of pending.rows) result.violations.push(`I6 bus ${p.topic}[${p.partition}] holds ${p.n} records group ${p.group_id} has not handled`);
    result.ok = result.violations.length === 0;
    return result;
  } finally {
    await pglite.close();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { prefix: { type: 'string' }, embedded: { type: 'boolean' } } });
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
  const result = values.embedded
    ? await checkEmbeddedInvariants(embeddedDataDir())
    : await checkInvariants({ serverUrl, databases: databaseNames(values.prefix) });
  console.log(JSON.stringify(result.counts));
  for (const line of result.violations) console.log(line);
  console.log(result.ok ? 'invariants hold' : `${result.violations.length} violations`);
  process.exit(result.ok ? 0 : 1);
}
