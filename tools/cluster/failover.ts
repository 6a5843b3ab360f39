// A steady stream of one-call orders through the gateway, and the longest pause in completed sagas
// around a fault: what `tools/cluster/measure-failover.ts` and the cluster e2e test measure (ADR 13).
import { setTimeout as delay } from 'node:timers/promises';

/** One order of the stream as the client saw it; times in ms since the stream started. */
export interface StreamedOrder {
  i: number;
  key: string;
  sentMs: number;
  /** HTTP status of POST /orders (0: no answer, see error). */
  status: number;
  orderId?: string;
  /** The order's final status (PLACED, FAILED), once known. */
  outcome?: string;
  /** When the saga was seen finished: the answer (201), or the poll that saw it (after a 202). */
  completedMs?: number;
  error?: string;
}

export interface StreamOptions {
  /** Gateway base URL. */
  gateway: string;
  /** Bearer token of an operator (to read an order that answered 202). */
  token: string;
  /** Orders started per second (open loop). */
  ratePerS: number;
  /** Most requests in flight. */
  concurrency: number;
  customers: readonly string[];
  productId: string;
  /** Prefix of every Idempotency-Key. */
  keyPrefix: string;
}

export interface OrderStream {
  /** Every order so far (in start order). */
  readonly orders: readonly StreamedOrder[];
  /** ms since the stream started (the clock of every StreamedOrder). */
  now(): number;
  /** Stops starting orders and waits for every started one to be answered and, after a 202, finished. */
  stop(): Promise<StreamedOrder[]>;
}

const TERMINAL = new Set(['PLACED', 'FAILED', 'CANCELLED']);

async function json(res: Response): Promise<any> {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

/**
 * Starts one-call orders (`POST /orders`, the seed route, each with its own Idempotency-Key) at
 * `ratePerS`, at most `concurrency` at a time. A client request "fails" when it gets no answer or a
 * status other than 201 / 202; the stream does not retry (the gateway is the one that must).
 *
 * @example
 * const stream = startOrderStream({ gateway, token, ratePerS: 20, concurrency: 32, customers, productId, keyPrefix: 'run1' });
 * ... kill something ...
 * const orders = await stream.stop();
 * console.log(longestPause(orders, killedAtMs, killedAtMs + 15_000));
 */
export function startOrderStream(o: StreamOptions): OrderStream {
  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const orders: StreamedOrder[] = [];
  let running = true;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();

  const finish = async (r: StreamedOrder): Promise<void> => {
    // A 202: the saga is still running; poll the order until it has ended.
    const deadline = now() + 120_000;
    while (now() < deadline) {
      try {
        const res = await fetch(`${o.gateway}/api/orders/${r.orderId}`, { headers: { authorization: `Bearer ${o.token}` }, signal: AbortSignal.timeout(10_000) });
        const body = await json(res);
        if (res.status === 200 && TERMINAL.has(body?.status)) {
          r.outcome = body.status;
          r.completedMs = now();
          return;
        }
      } catch {
        // asked again below
      }
      await delay(100);
    }
  };

  const one = async (i: number): Promise<void> => {
    const r: StreamedOrder = { i, key: `${o.keyPrefix}-${i}`, sentMs: now(), status: 0 };
    orders.push(r);
    try {
      const res = await fetch(`${o.gateway}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': r.key },
        body: JSON.stringify({ customerId: o.customers[i % o.customers.length], orderItems: [{ productId: o.productId, quantity: 1 }] }),
        signal: AbortSignal.timeout(60_000),
      });
      const body = await json(res);
      r.status = res.status;
      r.orderId = body?.id ?? body?.order?.id;
      if (res.status === 201 && TERMINAL.has(body?.status)) {
        r.outcome = body.status;
        r.completedMs = now();
      } else if (res.status === 202 && r.orderId !== undefined) {
        await finish(r);
      } else {
        r.error = `${res.status} ${JSON.stringify(body)}`;
      }
    } catch (err) {
      r.error = String((err as Error).cause ?? (err as Error).message);
    }
  };

  const loop = (async () => {
    for (let i = 0; running; i++) {
      const wait = (i / o.ratePerS) * 1000 - now();
      if (wait > 0) await delay(wait);
      while (inFlight >= o.concurrency && running) await Promise.race(pending);
      if (!running) break;
      inFlight++;
      const p = one(i).finally(() => {
        inFlight--;
        pending.delete(p);
      });
      pending.add(p);
    }
  })();

  return {
    orders,
    now,
    stop: async () => {
      running = false;
      await loop;
      await Promise.all(pending);
      return orders;
    },
  };
}

/** Client requests that failed: no answer, or a status other than 201 / 202. */
export function failedRequests(orders: readonly StreamedOrder[]): StreamedOrder[] {
  return orders.filter((r) => r.status !== 201 && r.status !== 202);
}

/**
 * The longest time in [fromMs, toMs] without a saga completing: the gaps between consecutive
 * completions, including the one from the last completion before `fromMs` to the first after it.
 */
export function longestPause(orders: readonly StreamedOrder[], fromMs: number, toMs: number): { pauseMs: number; atMs: number } {
  const done = orders.map((r) => r.completedMs).filter((t): t is number => t !== undefined).sort((a, b) => a - b);
  let before = fromMs;
  for (const t of done) if (t <= fromMs) before = t;
  // The first completion after the window closes the last gap (or the window's end when none came).
  const points = [before, ...done.filter((t) => t > fromMs && t <= toMs), done.find((t) => t > toMs) ?? toMs];
  let best = { pauseMs: 0, atMs: fromMs };
  for (let k = 1; k < points.length; k++) {
    if (points[k] - points[k - 1] > best.pauseMs) best = { pauseMs: points[k] - points[k - 1], atMs: points[k - 1] };
  }
  return best;
}

/** Completions per second in [fromMs, toMs]. */
export function completionRate(orders: readonly StreamedOrder[], fromMs: number, toMs: number): number {
  const n = orders.filter((r) => r.completedMs !== undefined && r.completedMs > fromMs && r.completedMs <= toMs).length;
  return n / ((toMs - fromMs) / 1000);
}
