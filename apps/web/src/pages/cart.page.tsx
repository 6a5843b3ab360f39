import { useState } from 'react';
import { api, ApiError } from '../api/http';
import type { Order, Product } from '../api/types';
import { useCart } from '../cart';
import { useApi } from '../components/use-api';
import { ErrorNotice, Link, money, PageTitle, Spinner } from '../components/ui';
import { navigate, PATHS } from '../routes';
import { useSession } from '../session';

/** The cart; "Place order" creates the order (INITIATED) and goes on to its payment page. */
export function CartPage() {
  const { session } = useSession();
  const cart = useCart();
  const [products, reload] = useApi((signal) => api<Product[]>('GET', '/api/products', undefined, { signal }), []);
  const [placing, setPlacing] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();

  const byId = new Map((products.data ?? []).map((p) => [p.id, p]));
  const lines = Object.entries(cart.lines);
  const total = lines.reduce((sum, [id, q]) => sum + (byId.get(id)?.price ?? 0) * q, 0);

  const place = async () => {
    if (!session) return;
    setPlacing(true);
    setError(undefined);
    try {
      const order = await api<Order>('POST', '/api/orders', {
        customerId: session.sub,
        orderItems: lines.map(([productId, quantity]) => ({ productId, quantity })),
      });
      cart.clear();
      navigate(PATHS.pay(order.id));
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'CLIENT', String(err)));
      setPlacing(false);
    }
  };

  return (
    <section>
      <PageTitle>Your cart</PageTitle>
      {products.state === 'error' ? <ErrorNotice title="Prices could not be loaded." error={products.error} onRetry={() => void reload()} /> : null}
      {products.state === 'loading' && !products.data ? <Spinner /> : null}
      {lines.length === 0 ? (
        <p className="card">
          The cart is empty. <Link to={PATHS.shop}>Browse the catalog</Link>.
        </p>
      ) : (
        <div className="card">
          <table className="table">
            <caption className="visually-hidden">Cart lines</caption>
            <thead>
              <tr>
                <th scope="col">Product</th>
                <th scope="col">Unit price</th>
                <th scope="col">Quantity</th>
                <th scope="col" className="num">
                  Line total
                </th>
                <th scope="col">
                  <span className="visually-hidden">Remove</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {lines.map(([id, quantity]) => {
                const p = byId.get(id);
                return (
                  <tr key={id}>
                    <td>
                      {p?.name ?? id} <span className="muted">{id}</span>
                    </td>
                    <td>{p ? money(p.price) : '—'}</td>
                    <td>
                      <label className="visually-hidden" htmlFor={`qty-${id}`}>
                        Quantity of {p?.name ?? id}
                      </label>
                      <input
                        id={`qty-${id}`}
                        className="qty"
                        type="number"
                        min={1}
                        max={999}
                        value={quantity}
                        onChange={(e) => cart.set(id, Math.max(1, Math.floor(Number(e.target.value) || 1)))}
                      />
                    </td>
                    <td className="num">{p ? money(p.price * quantity) : '—'}</td>
                    <td>
                      <button type="button" className="button button-link" onClick={() => cart.set(id, 0)} aria-label={`Remove ${p?.name ?? id}`}>
                        Remove
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row" colSpan={3}>
                  Total (catalog prices; the order service computes the amount)
                </th>
                <td className="num" data-testid="cart-total">
                  {money(total)}
                </td>
                <td />
              </tr>
            </tfoot>
          </table>
          {error ? <ErrorNotice title="The order could not be created." error={error} /> : null}
          <div className="actions">
            <Link to={PATHS.shop} className="button button-secondary">
              Continue shopping
            </Link>
            <button type="button" className="button" onClick={() => void place()} disabled={placing || !session}>
              {placing ? 'Placing order…' : 'Place order'}
            </button>
          </div>
        </div>
      )}
    </section>
  );
}
