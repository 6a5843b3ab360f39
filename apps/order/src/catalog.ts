import type { Queryable } from '@saga/postgres';
import type { CatalogClient, CatalogProduct } from './catalog.client';

/**
 * Prices for new orders from the order service's own copy of the catalog (`catalog_products`, fed
 * by inventory.events), so pricing an order needs no call to the inventory service, which may be
 * down or slow. Lookups go: memory (for `cacheMs`) → the table (one query for every id missing) →
 * the inventory service (a product created a moment ago, whose event has not arrived yet), whose
 * answer is kept in memory until its event fills the table.
 *
 * @example
 * const catalog = new Catalog(db, new CatalogClient(env.INVENTORY_URL), env.CATALOG_CACHE_MS);
 * const prices = await catalog.products(['P001', 'P002']);
 */
export class Catalog {
  private readonly cache = new Map<string, { product: CatalogProduct; until: number }>();

  constructor(
    private readonly db: Queryable,
    private readonly inventory: CatalogClient,
    private readonly cacheMs: number,
  ) {}

  /** Every id's price; throws UNKNOWN_PRODUCT (404) or UNAVAILABLE (503) as the inventory service answers for ids not known here. */
  async products(ids: readonly string[]): Promise<Map<string, CatalogProduct>> {
    const now = Date.now();
    const found = new Map<string, CatalogProduct>();
    let missing: string[] = [];
    for (const id of new Set(ids)) {
      const hit = this.cache.get(id);
      if (hit && hit.until > now) found.set(id, hit.product);
      else missing.push(id);
    }
    if (missing.length === 0) return found;
    const { rows } = await this.db.query<{ id: string; name: string; priceCents: string }>(
      'SELECT id, name, price_cents AS "priceCents" FROM catalog_products WHERE id = ANY($1::text[])',
      [missing],
    );
    for (const r of rows) this.remember(found, { id: r.id, name: r.name, priceCents: Number(r.priceCents) }, now);
    missing = missing.filter((id) => !found.has(id));
    if (missing.length === 0) return found;
    // Kept in memory only: the table is written by inventory.events alone (a refused order writes nothing).
    const fetched = await this.inventory.products(missing);
    for (const p of fetched.values()) this.remember(found, p, now);
    return found;
  }

  private remember(found: Map<string, CatalogProduct>, product: CatalogProduct, now: number): void {
    found.set(product.id, product);
    this.cache.set(product.id, { product, until: now + this.cacheMs });
  }
}

/** Writes products into the copy of the catalog (one statement); a product seen again is updated. */
export async function upsertCatalog(db: Queryable, products: readonly CatalogProduct[]): Promise<void> {
  if (products.length === 0) return;
  const last = new Map(products.map((p) => [p.id, p])); // one row per id, the latest wins
  const rows = [...last.values()];
  await db.query(
    `INSERT INTO catalog_products (id, name, price_cents)
     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, price_cents = EXCLUDED.price_cents, updated_at = now()`,
    [rows.map((p) => p.id), rows.map((p) => p.name), rows.map((p) => p.priceCents)],
  );
}
