import { useEffect, type ReactNode } from 'react';
import { useCart } from './cart';
import { Link } from './components/ui';
import { CartPage } from './pages/cart.page';
import { HistoryPage } from './pages/history.page';
import { DeadLettersPage } from './pages/operator/dead-letters.page';
import { SagaPage } from './pages/operator/saga.page';
import { SagasPage } from './pages/operator/sagas.page';
import { PayPage } from './pages/pay.page';
import { ShopPage } from './pages/shop.page';
import { SignInPage } from './pages/sign-in.page';
import { WalletPage } from './pages/wallet.page';
import { navigate, PATHS, useRoute, type Route } from './routes';
import { useSession, type Session } from './session';

const CUSTOMER_ROUTES: ReadonlySet<Route['name']> = new Set(['shop', 'cart', 'pay', 'history', 'wallet']);
const OPERATOR_ROUTES: ReadonlySet<Route['name']> = new Set(['sagas', 'saga', 'dead-letters']);

function Nav({ session, route }: { session: Session; route: Route }) {
  const cart = useCart();
  const item = (to: string, label: string, active: boolean) => (
    <li>
      <Link to={to} aria-current={active ? 'page' : undefined}>
        {label}
      </Link>
    </li>
  );
  return (
    <nav aria-label="Main">
      <ul>
        {session.role === 'customer' ? (
          <>
            {item(PATHS.shop, 'Catalog', route.name === 'shop')}
            {item(PATHS.cart, `Cart (${cart.count})`, route.name === 'cart')}
            {item(PATHS.history, 'Orders', route.name === 'history' || route.name === 'pay')}
            {item(PATHS.wallet, 'Wallet', route.name === 'wallet')}
          </>
        ) : (
          <>
            {item(PATHS.sagas, 'Sagas', route.name === 'sagas' || route.name === 'saga')}
            {item(PATHS.deadLetters, 'Dead letters', route.name === 'dead-letters')}
          </>
        )}
      </ul>
    </nav>
  );
}

function page(route: Route, session: Session | undefined): ReactNode {
  if (route.name === 'sign-in' || !session) return <SignInPage />;
  if (CUSTOMER_ROUTES.has(route.name) && session.role !== 'customer') return <WrongRole need="a customer" home={PATHS.sagas} />;
  if (OPERATOR_ROUTES.has(route.name) && session.role !== 'operator') return <WrongRole need="the operator" home={PATHS.shop} />;
  switch (route.name) {
    case 'shop':
      return <ShopPage />;
    case 'cart':
      return <CartPage />;
    case 'pay':
      return <PayPage orderId={route.orderId} />;
    case 'history':
      return <HistoryPage />;
    case 'wallet':
      return <WalletPage />;
    case 'sagas':
      return <SagasPage />;
    case 'saga':
      return <SagaPage sagaId={route.sagaId} />;
    case 'dead-letters':
      return <DeadLettersPage />;
    case 'not-found':
      return (
        <section>
          <h1 tabIndex={-1}>Page not found</h1>
          <p>
            <Link to="/">Go to the start page</Link>
          </p>
        </section>
      );
  }
}

function WrongRole({ need, home }: { need: string; home: string }) {
  return (
    <section>
      <h1 tabIndex={-1}>Not for this sign-in</h1>
      <p>
        This page is for {need}. <Link to={home}>Go to your start page</Link> or sign out and sign in again.
      </p>
    </section>
  );
}

export function App() {
  const route = useRoute();
  const { session, signOut } = useSession();
  const cart = useCart();

  // On each navigation, move focus to the new page's heading (screen readers announce it).
  useEffect(() => {
    const h1 = document.querySelector<HTMLElement>('main h1');
    h1?.focus({ preventScroll: true });
    document.title = `${h1?.textContent ?? 'Saga shop'} · Saga shop`;
  }, [route]);

  // The start page depends on who is signed in.
  useEffect(() => {
    if (session?.role === 'operator' && location.pathname === '/') navigate(PATHS.sagas, true);
  }, [session]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <div className="top-inner">
          <Link to="/" className="brand">
            Saga shop
          </Link>
          {session ? <Nav session={session} route={route} /> : null}
          {session ? (
            <div className="who">
              <span>
                Signed in as <strong>{session.sub}</strong>
              </span>
              <button
                type="button"
                className="button button-secondary"
                onClick={() => {
                  signOut();
                  cart.clear();
                  navigate(PATHS.signIn);
                }}
              >
                Sign out
              </button>
            </div>
          ) : null}
        </div>
      </header>
      <main id="main" className="main">
        {page(route, session)}
      </main>
    </>
  );
}
