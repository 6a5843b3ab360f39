import { useEffect, useRef, useState } from 'react';
import { api, ApiError } from '../api/http';
import { followOrder, TERMINAL_STATUSES, type StatusEvent } from '../api/order-events';
import type { Order, OrderStatus, PendingOrder, Wallet } from '../api/types';
import { useApi } from '../components/use-api';
import { dateTime, ErrorNotice, Link, money, PageTitle, Spinner, StatusBadge } from '../components/ui';
import { PATHS } from '../routes';

/** A clear sentence for each failure code of the payment call (DESIGN §3). */
export function failureTitle(code: string): string {
  switch (code) {
    case 'OUT_OF_STOCK':
      return 'Out of stock';
    case 'INSUFFICIENT_FUNDS':
      return 'Insufficient funds';
    case 'WALLET_UNAVAILABLE':
      return 'Wallet unavailable';
    case 'UNKNOWN_CUSTOMER':
      return 'Unknown customer';
    case 'ORDER_NOT_PAYABLE':
      return 'This order cannot be paid';
    case 'STEP_TIMEOUT':
      return 'The order took too long';
    default:
      return 'The order failed';
  }
}

type StepState = 'waiting' | 'active' | 'done' | 'failed' | 'skipped';
interface Step {
  key: string;
  label: string;
  state: StepState;
}

const REACHED: Record<OrderStatus, number> = { INITIATED: 0, PAYMENT_PENDING: 1, PAYMENT_DONE: 3, PLACED: 4, ON_WAY: 4, DELIVERED: 4, FAILED: -1, CANCELED: -1, RETURN_PENDING: 4, RETURNED: 4 };
const STEP_OF_CODE: Record<string, number> = { OUT_OF_STOCK: 1, INSUFFICIENT_FUNDS: 2, WALLET_UNAVAILABLE: 2, UNKNOWN_CUSTOMER: 2 };

/**
 * The saga's steps as the customer sees them, from the order statuses seen so far: payment
 * requested (PAYMENT_PENDING), stock reserved and payment taken (PAYMENT_DONE), order placed.
 */
function stepsOf(seen: readonly OrderStatus[], failureCode: string | undefined, paying: boolean): Step[] {
  const labels = ['Payment requested', 'Stock reserved', 'Payment taken', 'Order placed'];
  const reached = Math.max(0, ...seen.map((s) => REACHED[s]));
  const failed = seen.includes('FAILED') || seen.includes('CANCELED');
  const failedAt = failed ? (failureCode !== undefined && STEP_OF_CODE[failureCode] !== undefined ? STEP_OF_CODE[failureCode] : Math.min(reached, 3)) : -1;
  return labels.map((label, i) => {
    let state: StepState = 'waiting';
    if (failed) state = i < failedAt ? 'done' : i === failedAt ? 'failed' : 'skipped';
    else if (i < reached) state = 'done';
    else if (i === reached && (paying || reached > 0)) state = 'active';
    return { key: label, label, state };
  });
}

const STEP_TEXT: Record<StepState, string> = { waiting: 'waiting', active: 'in progress', done: 'done', failed: 'failed', skipped: 'not reached' };

export function PayPage({ orderId }: { orderId: string }) {
  const [order, reloadOrder] = useApi((signal) => api<Order>('GET', `/api/orders/${encodeURIComponent(orderId)}`, undefined, { signal }), [orderId]);
  const customerId = order.data?.customerId;
  const [wallet, reloadWallet] = useApi(
    (signal) => (customerId ? api<Wallet>('GET', `/api/wallets/${encodeURIComponent(customerId)}`, undefined, { signal }) : new Promise<never>(() => undefined)),
    [customerId],
  );
  const [events, setEvents] = useState<StatusEvent[]>([]);
  const [paying, setPaying] = useState(false);
  const [outcome, setOutcome] = useState<{ kind: 'placed' } | { kind: 'failed'; code: string; message: string } | { kind: 'running' } | undefined>();
  const [interrupted, setInterrupted] = useState(false);
  const stop = useRef<() => void>(undefined);
  useEffect(() => () => stop.current?.(), []);

  const statuses = events.map((e) => e.status);
  const last = events[events.length - 1];
  const current: OrderStatus | undefined = last?.status ?? order.data?.status;

  // An order whose payment already started (e.g. the page was reloaded): follow it.
  useEffect(() => {
    if (!order.data || stop.current || order.data.status === 'INITIATED' || TERMINAL_STATUSES.includes(order.data.status)) return;
    stop.current = follow();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [order.data?.status]);

  function follow(): () => void {
    return followOrder(orderId, {
      status: (e) => {
        setEvents((list) => (list.some((x) => x.status === e.status && x.at === e.at) ? list : [...list, e]));
        if (TERMINAL_STATUSES.includes(e.status)) {
          if (e.status === 'PLACED') setOutcome((o) => o ?? { kind: 'placed' });
          else setOutcome((o) => (o && o.kind !== 'running' ? o : { kind: 'failed', code: e.status, message: e.statusInfo ?? `The order is ${e.status}.` }));
          void reloadWallet();
          void reloadOrder();
        }
      },
      interrupted: () => setInterrupted(true),
    });
  }

  const pay = async () => {
    setPaying(true);
    setOutcome(undefined);
    setInterrupted(false);
    stop.current?.();
    stop.current = follow();
    try {
      const res = await api<Order | PendingOrder>('POST', `/api/orders/${encodeURIComponent(orderId)}/payment`);
      setOutcome(res.status === 'PLACED' ? { kind: 'placed' } : { kind: 'running' });
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(0, 'CLIENT', String(err));
      setOutcome({ kind: 'failed', code: e.code, message: e.message });
    } finally {
      setPaying(false);
      void reloadWallet();
    }
  };

  if (order.state === 'error' && !order.data) return <ErrorNotice title="The order could not be loaded." error={order.error} onRetry={() => void reloadOrder()} />;
  if (!order.data) return <Spinner label="Loading the order…" />;
  const o = order.data;
  const failureCode = outcome?.kind === 'failed' ? outcome.code : undefined;
  const steps = stepsOf(o.status === 'INITIATED' ? statuses : [...o.statusHistory.map((h) => h.status), ...statuses], failureCode, paying);
  const started = paying || events.length > 0 || o.status !== 'INITIATED';
  const payable = o.status === 'INITIATED' && !paying && outcome === undefined;

  return (
    <section>
      <PageTitle>Payment</PageTitle>
      <div className="columns">
        <div className="card">
          <h2>Order</h2>
          <dl className="facts">
            <dt>Order</dt>
            <dd>
              <code>{o.id}</code>
            </dd>
            <dt>Status</dt>
            <dd data-testid="order-status">
              <StatusBadge status={current ?? o.status} />
            </dd>
            <dt>Amount</dt>
            <dd className="amount" data-testid="order-amount">
              {money(o.totalPrice, o.currency)}
            </dd>
          </dl>
          <ul className="plain lines">
            {o.orderItems.map((i) => (
              <li key={i.productId}>
                {i.quantity} × {i.productId} at {money(i.unitPrice, o.currency)}
              </li>
            ))}
          </ul>
        </div>
        <div className="card">
          <h2>Wallet</h2>
          {wallet.state === 'error' ? <ErrorNotice title="The wallet could not be loaded." error={wallet.error} onRetry={() => void reloadWallet()} /> : null}
          {wallet.data ? (
            <p className="amount" data-testid="wallet-balance">
              {money(wallet.data.balance, wallet.data.currency)}
            </p>
          ) : wallet.state === 'loading' ? (
            <Spinner label="Loading the balance…" />
          ) : null}
          {wallet.data && o.status === 'INITIATED' && wallet.data.balance < o.totalPrice ? (
            <p className="notice notice-warn">The balance is below the amount: the payment will be refused.</p>
          ) : null}
          {payable ? (
            <button type="button" className="button button-large" onClick={() => void pay()}>
              Pay {money(o.totalPrice, o.currency)}
            </button>
          ) : null}
          {paying ? <Spinner label="Paying…" /> : null}
        </div>
      </div>

      {started ? (
        <div className="card">
          <h2>Progress</h2>
          <ol className="steps" aria-label="Order progress">
            {steps.map((s) => (
              <li key={s.key} className={`step step-${s.state}`} data-state={s.state}>
                <span className="step-dot" aria-hidden="true" />
                <span className="step-label">{s.label}</span> <span className="step-state">{STEP_TEXT[s.state]}</span>
              </li>
            ))}
          </ol>
          <div aria-live="polite">
            {outcome?.kind === 'placed' ? (
              <div className="notice notice-ok" role="status" data-testid="outcome">
                <strong>Order placed.</strong> Paid {money(o.totalPrice, o.currency)}. <Link to={PATHS.history}>See your orders</Link>.
              </div>
            ) : null}
            {outcome?.kind === 'failed' ? (
              <div className="notice notice-error" role="alert" data-testid="outcome">
                <strong>{failureTitle(outcome.code)}:</strong> <span data-testid="failure-reason">{outcome.message}</span>
                <p className="muted">Nothing was charged; any reserved stock was released.</p>
              </div>
            ) : null}
            {outcome?.kind === 'running' ? <p className="notice">The order is still being processed; this page follows it live.</p> : null}
            {interrupted && !TERMINAL_STATUSES.includes(current ?? 'INITIATED') ? (
              <div className="notice notice-warn" role="status">
                Live updates were interrupted.{' '}
                <button type="button" className="button button-link" onClick={() => void reloadOrder()}>
                  Refresh the status
                </button>
              </div>
            ) : null}
          </div>
          <h3>Status changes</h3>
          <ol className="plain events" data-testid="status-events">
            {(events.length > 0 ? events : o.statusHistory).map((e, i) => (
              <li key={`${e.status}-${i}`}>
                <StatusBadge status={e.status} /> <time dateTime={e.at}>{dateTime(e.at)}</time>
                {e.statusInfo ? <span className="muted"> — {e.statusInfo}</span> : null}
              </li>
            ))}
          </ol>
        </div>
      ) : null}
    </section>
  );
}
