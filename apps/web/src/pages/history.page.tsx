import { useState } from 'react';
import { api, ApiError } from '../api/http';
import type { OrderPage } from '../api/types';
import { useApi } from '../components/use-api';
import { dateTime, ErrorNotice, Link, money, PageTitle, Spinner, StatusBadge } from '../components/ui';
import { PATHS } from '../routes';
import { useSession } from '../session';

/** The customer's most recent orders (one page, newest first), with status, status info and the status history. */
const RECENT = 50;

export function HistoryPage() {
  const { session } = useSession();
  const sub = session?.sub ?? '';
  const [page, reload] = useApi(
    (signal) => api<OrderPage>('GET', `/api/orders?customerId=${encodeURIComponent(sub)}&sort=desc&limit=${RECENT}`, undefined, { signal }),
    [sub],
  );
  const orders = { ...page, data: page.data?.items };
  const [actionError, setActionError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState<string | undefined>();
  const [failedAction, setFailedAction] = useState<'canceled' | 'returned'>('canceled');

  /** Cancel (before payment) or return (a PLACED order: refund and restock, run by the return saga). */
  const act = async (id: string, action: 'cancel' | 'return') => {
    setBusy(id);
    setActionError(undefined);
    setFailedAction(action === 'cancel' ? 'canceled' : 'returned');
    try {
      await api('POST', `/api/orders/${encodeURIComponent(id)}/${action}`);
    } catch (err) {
      setActionError(err instanceof ApiError ? err : new ApiError(0, 'CLIENT', String(err)));
    } finally {
      // a failed return changed the order too (back to PLACED, with the reason)
      await reload();
      setBusy(undefined);
    }
  };

  return (
    <section>
      <PageTitle
        actions={
          <button type="button" className="button button-secondary" onClick={() => void reload()} disabled={orders.state === 'loading'}>
            Refresh
          </button>
        }
      >
        Your orders
      </PageTitle>
      {orders.state === 'error' ? <ErrorNotice title="The orders could not be loaded." error={orders.error} onRetry={() => void reload()} /> : null}
      {actionError ? <ErrorNotice title={`The order could not be ${failedAction}.`} error={actionError} /> : null}
      {orders.state === 'loading' && !orders.data ? <Spinner label="Loading your orders…" /> : null}
      {orders.data && orders.data.length === 0 ? (
        <p className="card">
          No orders yet. <Link to={PATHS.shop}>Browse the catalog</Link>.
        </p>
      ) : null}
      {page.data?.nextCursor ? <p className="muted">Showing your {RECENT} most recent orders.</p> : null}
      <ul className="plain order-list" aria-label="Orders">
        {orders.data?.map((o) => (
          <li key={o.id} className="card" data-order={o.id}>
            <div className="order-head">
              <div>
                <h2 className="order-title">
                  {o.orderItems.map((i) => `${i.quantity} × ${i.productId}`).join(', ')}
                </h2>
                <p className="muted">
                  <code>{o.id}</code> · {dateTime(o.createdAt)}
                </p>
              </div>
              <div className="order-side">
                <StatusBadge status={o.status} />
                <span className="amount-small">{money(o.totalPrice, o.currency)}</span>
              </div>
            </div>
            {o.statusInfo ? <p className="status-info">{o.statusInfo}</p> : null}
            <details>
              <summary>Status history ({o.statusHistory.length})</summary>
              <ol className="plain events">
                {o.statusHistory.map((h, i) => (
                  <li key={i}>
                    <StatusBadge status={h.status} /> <time dateTime={h.at}>{dateTime(h.at)}</time>
                    {h.statusInfo ? <span className="muted"> — {h.statusInfo}</span> : null}
                  </li>
                ))}
              </ol>
            </details>
            {o.status === 'INITIATED' ? (
              <div className="actions">
                <button type="button" className="button button-secondary" disabled={busy === o.id} onClick={() => void act(o.id, 'cancel')}>
                  Cancel order
                </button>
                <Link to={PATHS.pay(o.id)} className="button">
                  Go to payment
                </Link>
              </div>
            ) : null}
            {o.status === 'PLACED' ? (
              <div className="actions">
                <button type="button" className="button button-secondary" disabled={busy === o.id} onClick={() => void act(o.id, 'return')}>
                  {busy === o.id ? 'Returning…' : 'Return'}
                </button>
              </div>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
