import { AppError, ErrorCode, toCents } from '@saga/contracts';
import type { Database } from '@saga/postgres';
import type { OutboxRelay } from '@saga/messaging';
import { productCataloged, ProductRepository, type ProductRow } from './product.repository';

/** The catalog: list, read, and create products; every product is announced on inventory.events. */
export class ProductsService {
  private readonly repo = new ProductRepository();

  constructor(
    private readonly db: Database,
    private readonly relay: OutboxRelay,
  ) {}

  list(): Promise<ProductRow[]> {
    return this.repo.list(this.db);
  }

  async get(id: string): Promise<ProductRow> {
    const product = await this.repo.find(this.db, id);
    if (!product) throw new AppError(ErrorCode.NotFound, `product ${id} does not exist`, { productId: id });
    return product;
  }

  /** Creates a product and announces it on inventory.events in the same transaction. */
  async create(p: { id: string; name: string; type: string; price: number; available: number }): Promise<ProductRow> {
    const created = await this.relay.transaction(async (tx, enqueue) => {
      const row = await this.repo.create(tx, { ...p, priceCents: toCents(p.price) });
      if (row) await enqueue([productCataloged(row)]);
      return row;
    });
    if (!created) throw new AppError(ErrorCode.Conflict, `product ${p.id} already exists`, { productId: p.id });
    return created;
  }

  /** Announces the products never announced (the seed, products of an older version); returns how many. */
  announceNew(): Promise<number> {
    return this.relay.transaction(async (tx, enqueue) => {
      const products = await this.repo.claimUnannounced(tx);
      await enqueue(products.map(productCataloged));
      return products.length;
    });
  }
}
