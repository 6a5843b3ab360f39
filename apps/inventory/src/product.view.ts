import { fromCents } from '@saga/contracts';
import type { ProductRow } from './product.repository';

/** Public JSON of a product: price as a decimal, stock as what can still be bought. */
export function productView(p: ProductRow) {
  return { id: p.id, name: p.name, type: p.type, price: fromCents(p.priceCents), available: p.available };
}
