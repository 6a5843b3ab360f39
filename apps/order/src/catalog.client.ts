import { traceHeaders } from '@saga/telemetry';
import { AppError, ErrorCode, toCents } from '@saga/contracts';

export interface CatalogProduct {
  id: string;
  priceCents: number;
}

/**
 * Reads product prices from the inventory service (amounts come from the catalog, never the client).
 * Prices are cached briefly: a performance cache only, never needed for correctness.
 */
export class CatalogClient {
  private readonly cache = new Map<string, { product: CatalogProduct; until: number }>();

  constructor(
    private readonly inventoryUrl: string,
    private readonly cacheMs: number,
    private readonly timeoutMs = 2000,
  ) {}

  async products(ids: readonly string[]): Promise<Map<string, CatalogProduct>> {
    const unique = [...new Set(ids)];
    const found = await Promise.all(unique.map((id) => this.product(id)));
    return new Map(found.map((p) => [p.id, p]));
  }

  private async product(id: string): Promise<CatalogProduct> {
    const now = Date.now();
    const hit = this.cache.get(id);
    if (hit && hit.until > now) return hit.product;
    let res: Response;
    try {
      res = await fetch(`${this.inventoryUrl}/api/products/${encodeURIComponent(id)}`, {
        headers: traceHeaders(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch {
      throw new AppError(ErrorCode.Unavailable, 'the product catalog is unavailable, try again');
    }
    if (res.status === 404) throw new AppError(ErrorCode.UnknownProduct, `${id} does not exist`, { productId: id });
    if (!res.ok) throw new AppError(ErrorCode.Unavailable, 'the product catalog is unavailable, try again');
    const body = (await res.json()) as { id: string; price: number };
    const product = { id: body.id, priceCents: toCents(body.price) };
    this.cache.set(id, { product, until: now + this.cacheMs });
    return product;
  }
}
