import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

/** Product id → quantity. */
export type CartLines = Record<string, number>;

interface CartContextValue {
  lines: CartLines;
  count: number;
  add(productId: string, quantity?: number): void;
  set(productId: string, quantity: number): void;
  clear(): void;
}

const KEY = 'saga-shop.cart';
const CartContext = createContext<CartContextValue | undefined>(undefined);

function load(): CartLines {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as CartLines) : {};
  } catch {
    return {};
  }
}

/** The cart of the signed-in customer (kept in sessionStorage until the order is placed). */
export function CartProvider({ children }: { children: ReactNode }) {
  const [lines, setLines] = useState<CartLines>(load);
  useEffect(() => sessionStorage.setItem(KEY, JSON.stringify(lines)), [lines]);

  const set = useCallback((productId: string, quantity: number) => {
    setLines((l) => {
      const next = { ...l };
      if (quantity <= 0) delete next[productId];
      else next[productId] = Math.min(quantity, 999);
      return next;
    });
  }, []);
  const add = useCallback((productId: string, quantity = 1) => setLines((l) => ({ ...l, [productId]: Math.min((l[productId] ?? 0) + quantity, 999) })), []);
  const clear = useCallback(() => setLines({}), []);
  const count = Object.values(lines).reduce((a, b) => a + b, 0);
  const value = useMemo(() => ({ lines, count, add, set, clear }), [lines, count, add, set, clear]);
  return <CartContext.Provider value={value}>{children}</CartContext.Provider>;
}

export function useCart(): CartContextValue {
  const ctx = useContext(CartContext);
  if (!ctx) throw new Error('useCart outside CartProvider');
  return ctx;
}
