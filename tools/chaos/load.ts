// The chaos run's clients: sagas through the gateway, paced to a planned rate (open loop, bounded
// concurrency), each one recorded with its answer. ~80% use the seed's one-call POST /orders, the rest
// the two-step flow (create, then pay) as the operator; about one in five is bound to compensate.
import fc from 'fast-check';
import { setTimeout as delay } from 'node:timers/promises';

export interface Line {
  productId: string;
  quantity: number;
}

export type SagaKind = 'good' | 'poor' | 'scarce';

export interface SagaSpec {
  i: number;
  flow: 'one-call' | 'two-step';
  kind: SagaKind;
  customerId: string;
  items: Line[];
}

/** One saga as the client saw it: times in ms since the run started. */
export interface SagaRecord {
  spec: SagaSpec;
  /** When it was due (open loop: latency counts from here, not from when a client got round to it). */
  dueMs: number;
  endMs: number;
  /** HTTP status of the saga-starting call (0: no answer, see error). */
  status: number;
  code?: string;
  orderId?: string;
  /** The answer's order status (201/200: PLACED; a failure answer: its order's). */
  orderStatus?: string;
  error?: string;
}

/** The customers and products a run uses, with what they hold at the start. */
export interface Fixture {
  rich: string[];
  poor: string[];
  richBalance: number;
  poorBalance: number;
  /** Products in plenty, and one that runs out. */
  plenty: { id: string; price: number }[];
  scarce: { id: string; price: number; stock: number };
  plentyStock: number;
}

export function fixtureFor(runId: string, sagas: number): Fixture {
  const tag = runId.replace(/[^A-Za-z0-9]/g, '').slice(-8).toUpperCase();
  return {
    rich: Array.from({ length: 40 }, (_, i) => `CHR${i}_${tag}`),
    poor: Array.from({ length: 4 }, (_, i) => `CHP${i}_${tag}`),
    richBalance: 1_000_000,
    poorBalance: 1,
    plenty: [3, 5, 7, 11].map((price, i) => ({ id: `CHA${i}_${tag}`, price })),
    // About one saga in ten asks for it; it has stock for about half of them.
    scarce: { id: `CHS_${tag}`, price: 2, stock: Math.max(5, Math.round(sagas * 0.05)) },
    plentyStock: sagas * 10,
  };
}

/**
 * The seeded sagas: 80% one-call, 20% two-step; 10% for a poor customer (INSUFFICIENT_FUNDS), 10% for
 * the scarce product (OUT_OF_STOCK once it ran out), the rest good.
 */
export function planSagas(count: number, seed: number, f: Fixture): SagaSpec[] {
  const line = fc.record({ productId: fc.constantFrom(...f.plenty.map((p) => p.id)), quantity: fc.integer({ min: 1, max: 3 }) });
  const spec = fc.record({
    twoStep: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
    kindRoll: fc.integer({ min: 0, max: 9 }),
    rich: fc.constantFrom(...f.rich),
    poor: fc.constantFrom(...f.poor),
    lines: fc.uniqueArray(line, { minLength: 1, maxLength: 3, selector: (l) => l.productId }),
  });
  return fc.sample(spec, { seed, numRuns: count }).map((s, i): SagaSpec => {
    const kind: SagaKind = s.kindRoll === 0 ? 'poor' : s.kindRoll === 1 ? 'scarce' : 'good';
    return {
      i,
      flow: s.twoStep ? 'two-step' : 'one-call',
      kind,
      customerId: kind === 'poor' ? s.poor : s.rich,
      items: kind === 'scarce' ? [{ productId: f.scarce.id, quantity: 1 }] : s.lines,
    };
  });
}

interface Answer {
  status: number;
  body: { id?: string; status?: string; code?: string; order?: { id?: string; status?: string } } | undefined;
}

/** How long a client keeps asking again when a call's outcome is unknown (no answer, 503 UNAVAILABLE, 504). */
const RETRY_FOR_MS = 60_000;

async function call(method: string, url: string, body: unknown, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(40_000) });
  const text = await res.text();
  let parsed: Answer['body'];
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed };
}

/**
 * A saga-starting call as a careful client makes it: with an Idempotency-Key, so that a call whose
 * outcome is unknown (no answer from a killed gateway or a cut connection, 503 UNAVAILABLE, 504) can
 * be asked again without a second order or debit — the repeat gets the first call's outcome.
 */
async function keyedCall(url: string, body: unknown, key: string, token?: string): Promise<Answer> {
  const headers: Record<string, string> = { 'idempotency-key': key, ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const started = performance.now();
  for (;;) {
    const again = performance.now() - started < RETRY_FOR_MS;
    try {
      const res = await call('POST', url, body, headers);
      // 503 UNAVAILABLE (a process restarting) and 504 (the gateway stopped waiting; the call may
      // have gone through): the outcome is unknown, so ask again with the same key.
      const unknown = (res.status === 503 && res.body?.code === 'UNAVAILABLE') || res.status === 504;
      if (!(unknown && again)) return res;
    } catch (err) {
      if (!again) throw err;
    }
    await delay(500);
  }
}

/** Runs one saga through the gateway. */
async function runSaga(gateway: string, token: string, s: SagaSpec, runKey: string): Promise<Omit<SagaRecord, 'spec' | 'dueMs' | 'endMs'>> {
  const order = { customerId: s.customerId, orderItems: s.items };
  const key = `${runKey}-${s.i}`;
  try {
    let res: Answer;
    if (s.flow === 'one-call') {
      res = await keyedCall(`${gateway}/orders`, order, key);
    } else {
      const created = await keyedCall(`${gateway}/api/orders`, order, `${key}-create`, token);
      if (created.status !== 201 || !created.body?.id) return { status: created.status, code: created.body?.code ?? 'CREATE_FAILED' };
      res = await keyedCall(`${gateway}/api/orders/${created.body.id}/payment`, {}, `${key}-pay`, token);
      res.body = { ...res.body, id: res.body?.id ?? res.body?.order?.id ?? created.body.id };
    }
    const orderId = res.body?.id ?? res.body?.order?.id;
    const orderStatus = res.body?.status && res.status < 300 ? res.body.status : res.body?.order?.status;
    return { status: res.status, code: res.body?.code, orderId, orderStatus };
  } catch (err) {
    return { status: 0, error: String((err as Error).cause ?? (err as Error).message) };
  }
}

/**
 * Sends `specs` at `ratePerS` (saga i is due at i / rate), at most `concurrency` at a time; resolves
 * with every record once all answered.
 */
export async function drive(o: { gateway: string; token: string; specs: SagaSpec[]; ratePerS: number; concurrency: number; t0: number; runKey: string }): Promise<SagaRecord[]> {
  const records: SagaRecord[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < o.specs.length) {
      const spec = o.specs[next++];
      const dueMs = (spec.i / o.ratePerS) * 1000;
      const wait = o.t0 + dueMs - performance.now();
      if (wait > 0) await delay(wait);
      const r = await runSaga(o.gateway, o.token, spec, o.runKey);
      records.push({ spec, dueMs, endMs: performance.now() - o.t0, ...r });
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return records.sort((a, b) => a.spec.i - b.spec.i);
}
