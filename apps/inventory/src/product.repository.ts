import type { Queryable } from '@saga/postgres';
import type { NewProduct } from './product.seed';

export interface ProductRow {
  id: string;
  name: string;
  type: string;
  priceCents: number;
  available: number;
  reserved: number;
  sold: number;
}

const COLUMNS = `id, name, type, price_cents AS "priceCents", available, reserved, sold`;

/** Catalog SQL (HTTP side). */
export class ProductRepository {
  async list(db: Queryable): Promise<ProductRow[]> {
    return (await db.query<ProductRow>(`SELECT ${COLUMNS} FROM products ORDER BY id`)).rows;
  }

  async find(db: Queryable, id: string): Promise<ProductRow | undefined> {
    return (await db.query<ProductRow>(`SELECT ${COLUMNS} FROM products WHERE id = $1`, [id])).rows[0];
  }

  /** Undefined when a product with that id exists already. */
  async create(db: Queryable, p: NewProduct): Promise<ProductRow | undefined> {
    const res = await db.query<ProductRow>(
      `INSERT INTO products (id, name, type, price_cents, available) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`,
      [p.id, p.name, p.type, p.priceCents, p.available],
    );
    return res.rows[0];
  }
}
