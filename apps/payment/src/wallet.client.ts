import { ErrorCode } from '@saga/contracts';
import { ExponentialBackoff, fullJitterGenerator, handleWhen, retry, timeout, TimeoutStrategy, wrap } from 'cockatiel';
import type { Logger } from 'pino';
import { REQUEST_ID_HEADER } from '@saga/nest-kit';
import { METRICS, serviceLabel, traceHeaders } from '@saga/telemetry';

export interface WalletClientOptions {
  baseUrl: string;
  /** Timeout of one try. */
  timeoutMs: number;
  /** Tries, the first included. */
  maxAttempts: number;
  /** Bound on all tries and backoff of one call. */
  totalTimeoutMs: number;
  /** First backoff delay; then exponential with full jitter, capped at 1 s. */
  backoffMs: number;
  logger: Logger;
  /** The signal that ends one try after `timeoutMs` (default AbortSignal.timeout; tests end tries on cue). */
  tryTimeout?: (timeoutMs: number) => AbortSignal;
}

export type DebitResult =
  | { outcome: 'APPLIED'; attempts: number }
  | { outcome: 'REJECTED'; code: ErrorCode; reason: string; attempts: number }
  | Unavailable;

export type ReverseResult = { outcome: 'REVERSED' | 'NOTHING_TO_REVERSE'; attempts: number } | Unavailable;

/**
 * No definite answer within the bounds. `busy`: every try that failed timed out (the wallet took the
 * connection but did not answer in time), so it is slow rather than gone; a refused or reset
 * connection, or a 5xx, makes it `busy: false` (down).
 */
export interface Unavailable {
  outcome: 'UNAVAILABLE';
  reason: string;
  attempts: number;
  busy: boolean;
  /**
   * false only when no try can have reached the wallet (each one's connection was refused or its
   * host not found): nothing was applied. Absent or true: the outcome is unknown.
   */
  reached?: boolean;
}

/** A try whose outcome is unknown or transient (network, timeout, 5xx, unexpected answer): retry it. */
class RetryableWalletError extends Error {}

/** A try that got no answer within its timeout: the wallet may just be busy. */
class WalletTimeoutError extends RetryableWalletError {}

/** A try whose request never got to the wallet (connection refused, unknown host): nothing applied. */
class WalletUnreachableError extends RetryableWalletError {}

const UNREACHABLE_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The wallet's definite refusals of a debit (anything else is retried). */
const REJECTIONS: Record<string, ErrorCode> = {
  INSUFFICIENT_FUNDS: ErrorCode.InsufficientFunds,
  UNKNOWN_CUSTOMER: ErrorCode.UnknownCustomer,
  CONFLICT: ErrorCode.Conflict,
  VALIDATION_FAILED: ErrorCode.ValidationFailed,
};

export interface DebitCall {
  paymentId: string;
  orderId: string;
  customerId: string;
  amountCents: number;
  currency: string;
}

type WalletOperation = 'debit' | 'debit-batch' | 'reverse';

/** One answer of `POST /internal/debits/batch`: what the single call would have answered. */
interface BatchItem {
  paymentId: string;
  status: number;
  body: Record<string, unknown>;
}

function debitBody(d: DebitCall) {
  return { paymentId: d.paymentId, customerId: d.customerId, amountCents: d.amountCents, currency: d.currency, description: `order ${d.orderId}` };
}

function isDefinite(status: number, body: Record<string, unknown>): boolean {
  return status === 200 || (status >= 400 && status < 500 && typeof body.code === 'string' && body.code in REJECTIONS);
}

function debitResult(status: number, body: Record<string, unknown>, attempts: number): DebitResult {
  if (status === 200) return { outcome: 'APPLIED', attempts };
  const code = REJECTIONS[body.code as string];
  return { outcome: 'REJECTED', code, reason: typeof body.message === 'string' ? body.message : code, attempts };
}

function unavailable(r: { unavailable: string; attempts: number; busy: boolean; reached: boolean }): Unavailable {
  return { outcome: 'UNAVAILABLE', reason: r.unavailable, attempts: r.attempts, busy: r.busy, reached: r.reached };
}

/** A batch answer is kept only when every debit in it is definite; otherwise the try is retried. */
function assertDefinite(body: Record<string, unknown>): void {
  const results = body.results;
  if (!Array.isArray(results)) throw new RetryableWalletError('wallet answered a batch without results');
  const open = (results as BatchItem[]).filter((i) => !isDefinite(i.status, i.body ?? {}));
  if (open.length > 0) throw new RetryableWalletError(`wallet could not settle ${open.length} debit(s) of the batch (${open[0].status})`);
}

type CallResult = { status: number; body: Record<string, unknown>; attempts: number } | { unavailable: string; attempts: number; busy: boolean; reached: boolean };

/**
 * The wallet's internal API, called with an idempotency key (the payment id): each try has its own
 * timeout; failed tries are retried with exponential backoff and full jitter, bounded in tries and
 * in total time, and every retry is logged with the order id. Never throws: reaching the bound is an
 * UNAVAILABLE result (the outcome of a debit is then unknown). Keep-alive comes from fetch's
 * (undici's) default connection pool.
 */
export class WalletClient {
  private readonly service: string;

  constructor(private readonly o: WalletClientOptions) {
    this.service = serviceLabel(o.logger);
  }

  /** `correlationId` goes as the request id, so the wallet's log lines join the saga's. */
  async debit(d: DebitCall, correlationId?: string): Promise<DebitResult> {
    const r = await this.call('debit', d.orderId, d.paymentId, '/internal/debits', debitBody(d), correlationId);
    if ('unavailable' in r) return unavailable(r);
    return debitResult(r.status, r.body, r.attempts);
  }

  /**
   * Several debits in one request and one wallet transaction (`POST /internal/debits/batch`), with
   * the same bounded retries as one debit: a try is retried whole until every debit in it has a
   * definite answer (each is idempotent by its payment id). One debit goes the single way.
   */
  async debitMany(ds: readonly DebitCall[], correlationId?: string): Promise<DebitResult[]> {
    if (ds.length === 1) return [await this.debit(ds[0], correlationId)];
    const orders = `${ds[0].orderId} and ${ds.length - 1} more`;
    const r = await this.call('debit-batch', orders, `${ds.length} payments`, '/internal/debits/batch', { debits: ds.map(debitBody) }, correlationId);
    // wallet_calls_total counts debits (by outcome), whether they went alone or in a batch.
    const count = (outcome: 'ok' | 'rejected' | 'unavailable', n = 1) => METRICS.walletCalls.inc({ service: this.service, operation: 'debit', outcome }, n);
    if ('unavailable' in r) {
      count('unavailable', ds.length);
      return ds.map(() => unavailable(r));
    }
    const byPayment = new Map((r.body.results as BatchItem[]).map((i) => [i.paymentId, i]));
    return ds.map((d) => {
      const item = byPayment.get(d.paymentId)!;
      const result = debitResult(item.status, item.body, r.attempts);
      count(result.outcome === 'APPLIED' ? 'ok' : 'rejected');
      return result;
    });
  }

  async reverse(r: { paymentId: string; orderId: string }, correlationId?: string): Promise<ReverseResult> {
    const path = `/internal/debits/${encodeURIComponent(r.paymentId)}/reverse`;
    const res = await this.call('reverse', r.orderId, r.paymentId, path, { description: `refund for order ${r.orderId}` }, correlationId);
    if ('unavailable' in res) return unavailable(res);
    return { outcome: res.body.status === 'REVERSED' ? 'REVERSED' : 'NOTHING_TO_REVERSE', attempts: res.attempts };
  }

  private async call(op: WalletOperation, orderId: string, paymentId: string, path: string, body: unknown, correlationId: string | undefined): Promise<CallResult> {
    let attempts = 0;
    let lastError = 'no answer';
    let down = false;
    let reached = false;
    // a try cut by the total bound may have reached the wallet
    let inFlight = false;
    const retries = retry(
      handleWhen((err) => err instanceof RetryableWalletError),
      {
        maxAttempts: this.o.maxAttempts - 1, // cockatiel counts retries
        backoff: new ExponentialBackoff({ generator: fullJitterGenerator, initialDelay: this.o.backoffMs, maxDelay: 1_000 }),
      },
    );
    const service = this.service;
    retries.onRetry((e) => {
      METRICS.walletRetries.inc({ service, operation: op });
      this.o.logger.warn({ orderId, paymentId, op, attempt: attempts, delayMs: Math.round(e.delay), error: lastError }, 'wallet call failed; retrying');
    });
    const policy = wrap(timeout(this.o.totalTimeoutMs, TimeoutStrategy.Aggressive), retries);
    try {
      const answer = await policy.execute(async ({ signal }) => {
        attempts++;
        inFlight = true;
        try {
          return { ...(await this.try(op, path, body, signal, correlationId)), attempts };
        } catch (err) {
          lastError = err instanceof Error ? err.message : String(err);
          if (!(err instanceof WalletTimeoutError)) down = true;
          if (!(err instanceof WalletUnreachableError)) reached = true;
          throw err instanceof RetryableWalletError ? err : new RetryableWalletError(lastError);
        } finally {
          inFlight = false;
        }
      });
      if (op !== 'debit-batch') METRICS.walletCalls.inc({ service, operation: op, outcome: answer.status === 200 ? 'ok' : 'rejected' });
      return answer;
    } catch (err) {
      if (op !== 'debit-batch') METRICS.walletCalls.inc({ service, operation: op, outcome: 'unavailable' });
      const why = err instanceof RetryableWalletError ? lastError : `no answer within ${this.o.totalTimeoutMs} ms (last: ${lastError})`;
      const reason = `wallet unavailable after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${why}`;
      this.o.logger.warn({ orderId, paymentId, op, attempts, error: why }, 'wallet unavailable');
      return { unavailable: reason, attempts, busy: !down, reached: reached || inFlight };
    }
  }

  /** One HTTP try. Resolves with a definite answer; throws RetryableWalletError otherwise. */
  private async try(op: WalletOperation, path: string, body: unknown, outer: AbortSignal, correlationId: string | undefined): Promise<{ status: number; body: Record<string, unknown> }> {
    const signal = AbortSignal.any([outer, (this.o.tryTimeout ?? AbortSignal.timeout)(this.o.timeoutMs)]);
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.o.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...traceHeaders(), ...(correlationId ? { [REQUEST_ID_HEADER]: correlationId } : {}) },
        body: JSON.stringify(body),
        signal,
      });
      text = await res.text();
    } catch (err) {
      if (signal.aborted) throw new WalletTimeoutError(`timed out after ${this.o.timeoutMs} ms`);
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      if (cause?.code && UNREACHABLE_CODES.has(cause.code)) throw new WalletUnreachableError(cause.code);
      throw new RetryableWalletError(cause?.code ?? cause?.message ?? (err as Error).message);
    }
    let parsed: Record<string, unknown>;
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      throw new RetryableWalletError(`wallet answered ${res.status} with a body that is not JSON`);
    }
    if (res.status === 200) {
      if (op === 'debit-batch') assertDefinite(parsed);
      return { status: 200, body: parsed };
    }
    // Only a definite refusal ends a debit; anything else (5xx, 429, a missing route) is retried.
    const code = typeof parsed.code === 'string' ? parsed.code : undefined;
    if (op === 'debit' && res.status >= 400 && res.status < 500 && code && code in REJECTIONS) return { status: res.status, body: parsed };
    throw new RetryableWalletError(`wallet answered ${res.status}${code ? ` ${code}` : ''}`);
  }
}
