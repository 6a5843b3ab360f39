import { traceHeaders } from '@saga/telemetry';
import { AppError, ErrorCode, toCents } from '@saga/contracts';

export interface CatalogProduct {
  id: string;
  name: string;
  priceCents: number;
}

/**
 * Reads products from the inventory service's HTTP API: the order service's fallback for products
 * its own copy of the catalog does not have yet (see {@link Catalog}).
 */
export class CatalogClient {
  constructor(
    private readonly inventoryUrl: string,
    private readonly timeoutMs = 2000,
  ) {}

  async products(ids: readonly string[]): Promise<Map<string, CatalogProduct>> {
    const found = await Promise.all([...new Set(ids)].map((id) => this.product(id)));
    return new Map(found.map((p) => [p.id, p]));
  }

  private async product(id: string): Promise<CatalogProduct> {
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
    const body = (await res.json()) as { id: string; name: string; price: number };
    return { id: body.id, name: body.name, priceCents: toCents(body.price) };
  }
}
