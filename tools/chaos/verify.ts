// The end of a chaos run, with the stack quiet: the invariant checker over the five databases, and
// the same questions asked through the public API only (as the operator).
import { checkInvariants, databaseNames, type CheckResult } from '../invariants/check.ts';
import type { Fixture, SagaRecord } from './load.ts';

interface ApiOrder {
  id: string;
  customerId: string;
  status: string;
  totalPrice: number;
  orderItems: { productId: string; quantity: number }[];
}

export interface ApiCheck {
  /** What was asked, and the violations found (empty: holds). */
  question: string;
  violations: string[];
}

const cents = (x: number): number => Math.round(x * 100);
const TERMINAL = new Set(['PLACED', 'FAILED', 'CANCELED']);

async function getJson<T>(url: string, token: string): Promise<T> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Every page of a list, following nextCursor. */
async function all<T>(gateway: string, path: string, token: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page: { items: T[]; nextCursor: string | null } = await getJson(`${gateway}${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, token);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/** Waits (bounded) until no saga runs or compensates and the invariants hold, then gives the checker's last word. */
export async function settle(serverUrl: string, prefix: string, timeoutMs: number): Promise<CheckResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await checkInvariants({ serverUrl, databases: databaseNames(prefix) }).catch((err: Error) => ({ ok: false, violations: [err.message], counts: {} }));
    if (result.ok || Date.now() > deadline) return result;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/**
 * The questions of the issue through the API: every 201 is PLACED; every failure answer's order is
 * FAILED; per customer money debited = totals of placed orders; per product stock consumed =
 * quantities placed; nothing negative; nothing stuck.
 */
export async function checkThroughApi(gateway: string, token: string, f: Fixture, records: SagaRecord[]): Promise<ApiCheck[]> {
  const customers = [...f.rich, ...f.poor];
  const ordersOf = new Map<string, ApiOrder[]>();
  for (const c of customers) ordersOf.set(c, await all<ApiOrder>(gateway, `/api/orders?customerId=${c}`, token));
  const byId = new Map([...ordersOf.values()].flat().map((o) => [o.id, o]));

  const answered: ApiCheck = { question: 'every 201/200 answer is a PLACED order; every failure answer (4xx with an order) is a FAILED one; every order of an unanswered call ended', violations: [] };
  for (const r of records) {
    const order = r.orderId ? byId.get(r.orderId) : undefined;
    const what = `saga ${r.spec.i} (${r.spec.flow}, ${r.status}${r.code ? ` ${r.code}` : ''})`;
    if (r.status === 201 || r.status === 200) {
      if (order?.status !== 'PLACED') answered.violations.push(`${what}: order ${r.orderId} is ${order?.status ?? 'missing'}`);
    } else if (r.status >= 400 && r.status < 500 && r.orderId && r.code !== 'ORDER_NOT_PAYABLE') {
      // (ORDER_NOT_PAYABLE answers a pay asked again after no answer: the first one went through.)
      if (order?.status !== 'FAILED') answered.violations.push(`${what}: order ${r.orderId} is ${order?.status ?? 'missing'}`);
    }
  }
  const unpaid = new Set(records.filter((r) => r.spec.flow === 'two-step' && r.status === 0 && r.orderId).map((r) => r.orderId));
  const stuck: ApiCheck = { question: 'nothing stuck: every order ended (INITIATED only where its pay call got no answer), no saga running, compensating or COMPENSATION_FAILED', violations: [] };
  for (const o of byId.values()) {
    if (!TERMINAL.has(o.status) && !(o.status === 'INITIATED' && unpaid.has(o.id))) stuck.violations.push(`order ${o.id} of ${o.customerId} is ${o.status}`);
  }
  for (const status of ['RUNNING', 'COMPENSATING', 'COMPENSATION_FAILED']) {
    const page = await getJson<{ items: { id: string }[] }>(`${gateway}/api/sagas?status=${status}&limit=20`, token);
    for (const s of page.items) stuck.violations.push(`saga ${s.id} is ${status}`);
  }

  const money: ApiCheck = { question: 'per customer: money debited = totals of placed orders; no balance negative', violations: [] };
  for (const c of customers) {
    const wallet = await getJson<{ balance: number }>(`${gateway}/api/wallets/${c}`, token);
    const initial = f.poor.includes(c) ? f.poorBalance : f.richBalance;
    const placed = (ordersOf.get(c) ?? []).filter((o) => o.status === 'PLACED').reduce((sum, o) => sum + cents(o.totalPrice), 0);
    if (cents(initial) - cents(wallet.balance) !== placed) money.violations.push(`${c}: debited ${(cents(initial) - cents(wallet.balance)) / 100}, placed orders total ${placed / 100}`);
    if (wallet.balance < 0) money.violations.push(`${c}: balance ${wallet.balance}`);
  }

  const stock: ApiCheck = { question: 'per product: stock consumed = quantities placed; no stock negative', violations: [] };
  const placedQty = new Map<string, number>();
  for (const o of byId.values()) {
    if (o.status !== 'PLACED') continue;
    for (const i of o.orderItems) placedQty.set(i.productId, (placedQty.get(i.productId) ?? 0) + i.quantity);
  }
  for (const p of [...f.plenty.map((x) => ({ id: x.id, stock: f.plentyStock })), { id: f.scarce.id, stock: f.scarce.stock }]) {
    const product = await getJson<{ available: number }>(`${gateway}/api/products/${p.id}`, token);
    const consumed = p.stock - product.available;
    if (consumed !== (placedQty.get(p.id) ?? 0)) stock.violations.push(`${p.id}: consumed ${consumed}, placed ${placedQty.get(p.id) ?? 0}`);
    if (product.available < 0) stock.violations.push(`${p.id}: available ${product.available}`);
  }
  return [answered, stuck, money, stock];
}
