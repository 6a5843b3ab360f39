import { AppError, ErrorCode, toCents } from '@saga/contracts';
import type { Database } from '@saga/postgres';
import { ProductRepository, type ProductRow } from './product.repository';

/** The catalog: list, read, and create products. */
export class ProductsService {
  private readonly repo = new ProductRepository();

  constructor(private readonly db: Database) {}

  list(): Promise<ProductRow[]> {
    return this.repo.list(this.db);
  }

  async get(id: string): Promise<ProductRow> {
    const product = await this.repo.find(this.db, id);
    if (!product) throw new AppError(ErrorCode.NotFound, `product ${id} does not exist`, { productId: id });
    return product;
  }

  async create(p: { id: string; name: string; type: string; price: number; available: number }): Promise<ProductRow> {
    const created = await this.repo.create(this.db, { ...p, priceCents: toCents(p.price) });
    if (!created) throw new AppError(ErrorCode.Conflict, `product ${p.id} already exists`, { productId: p.id });
    return created;
  }
}
