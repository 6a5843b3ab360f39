import { api } from '../api/http';
import type { Product } from '../api/types';
import { useCart } from '../cart';
import { useApi } from '../components/use-api';
import { useInterval } from '../components/use-interval';
import { ErrorNotice, Link, money, PageTitle, Spinner } from '../components/ui';
import { PATHS } from '../routes';

/** The catalog with live stock: refreshed on demand and every 10 s. */
export function ShopPage() {
  const [products, reload] = useApi((signal) => api<Product[]>('GET', '/api/products', undefined, { signal }), []);
  const cart = useCart();
  useInterval(() => void reload(), 10_000);

  return (
    <section>
      <PageTitle
        actions={
          <>
            <button type="button" className="button button-secondary" onClick={() => void reload()} disabled={products.state === 'loading'}>
              {products.state === 'loading' && products.data ? 'Refreshing…' : 'Refresh stock'}
            </button>
            <Link to={PATHS.cart} className="button">
              Cart ({cart.count})
            </Link>
          </>
        }
      >
        Catalog
      </PageTitle>
      {products.state === 'error' ? <ErrorNotice title="The catalog could not be loaded." error={products.error} onRetry={() => void reload()} /> : null}
      {products.data === undefined && products.state === 'loading' ? <Spinner label="Loading the catalog…" /> : null}
      {products.data ? (
        <ul className="grid" aria-label="Products">
          {products.data.map((p) => {
            const inCart = cart.lines[p.id] ?? 0;
            const out = p.available <= 0;
            const full = inCart >= p.available;
            return (
              <li key={p.id} className="card product" data-product={p.id}>
                <h2>{p.name}</h2>
                <p className="muted">
                  {p.id} · {p.type}
                </p>
                <p className="price">{money(p.price)}</p>
                <p className={out ? 'stock stock-out' : 'stock'} data-testid={`stock-${p.id}`}>
                  {out ? 'Out of stock' : `${p.available} in stock`}
                </p>
                <button type="button" className="button" onClick={() => cart.add(p.id)} disabled={full} aria-label={`Add ${p.name} to cart`}>
                  {out ? 'Unavailable' : full ? `All ${inCart} in cart` : `Add to cart${inCart > 0 ? ` (${inCart})` : ''}`}
                </button>
              </li>
            );
          })}
        </ul>
      ) : null}
    </section>
  );
}
