import { useEffect, useState } from 'react';

/**
 * The client-side routes. The gateway answers each with index.html (apps/gateway/src/web/web-ui.ts,
 * WEB_ROUTES: keep both lists in step); every other path stays the API's 404 JSON.
 */
export type Route =
  | { name: 'sign-in' }
  | { name: 'shop' }
  | { name: 'cart' }
  | { name: 'pay'; orderId: string }
  | { name: 'history' }
  | { name: 'wallet' }
  | { name: 'sagas' }
  | { name: 'saga'; sagaId: string }
  | { name: 'dead-letters' }
  | { name: 'not-found' };

export const PATHS = {
  signIn: '/sign-in',
  shop: '/shop',
  cart: '/cart',
  pay: (orderId: string) => `/pay/${encodeURIComponent(orderId)}`,
  history: '/history',
  wallet: '/wallet',
  sagas: '/operator',
  saga: (sagaId: string) => `/operator/sagas/${encodeURIComponent(sagaId)}`,
  deadLetters: '/operator/dead-letters',
} as const;

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [a, b, c] = parts;
  if (parts.length === 0) return { name: 'shop' };
  if (parts.length === 1) {
    switch (a) {
      case 'sign-in':
        return { name: 'sign-in' };
      case 'shop':
        return { name: 'shop' };
      case 'cart':
        return { name: 'cart' };
      case 'history':
        return { name: 'history' };
      case 'wallet':
        return { name: 'wallet' };
      case 'operator':
        return { name: 'sagas' };
    }
  }
  if (parts.length === 2 && a === 'pay') return { name: 'pay', orderId: b };
  if (parts.length === 2 && a === 'operator' && b === 'dead-letters') return { name: 'dead-letters' };
  if (parts.length === 3 && a === 'operator' && b === 'sagas') return { name: 'saga', sagaId: c };
  return { name: 'not-found' };
}

const listeners = new Set<() => void>();

/** Client-side navigation (history API); every subscribed {@link useRoute} re-renders. */
export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  window.scrollTo(0, 0);
  for (const l of listeners) l();
}

export function useRoute(): Route {
  const [path, setPath] = useState(() => location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return parseRoute(path);
}
