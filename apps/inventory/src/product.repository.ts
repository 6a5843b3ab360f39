import { TOPICS } from '@saga/contracts';
import { newEnvelope, toTopic, type OutgoingMessage } from '@saga/messaging';
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

  /** Undefined when a product with that id exists already. The caller announces it in the same transaction. */
  async create(db: Queryable, p: NewProduct): Promise<ProductRow | undefined> {
    const res = await db.query<ProductRow>(
      `INSERT INTO products (id, name, type, price_cents, available, announced_at) VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`,
      [p.id, p.name, p.type, p.priceCents, p.available],
    );
    return res.rows[0];
  }

  /** Marks every product not yet announced on inventory.events as announced, and returns them. */
  async claimUnannounced(tx: Queryable): Promise<Pick<ProductRow, 'id' | 'name' | 'priceCents'>[]> {
    const res = await tx.query<{ id: string; name: string; priceCents: string }>(
      `UPDATE products SET announced_at = now() WHERE announced_at IS NULL RETURNING id, name, price_cents AS "priceCents"`,
    );
    return res.rows.map((r) => ({ ...r, priceCents: Number(r.priceCents) }));
  }
}

/** The inventory.events message that gives the order service its copy of a product. */
export function productCataloged(p: Pick<ProductRow, 'id' | 'name' | 'priceCents'>): OutgoingMessage {
  return toTopic(TOPICS.inventoryEvents, newEnvelope('ProductCataloged', { productId: p.id, name: p.name, priceCents: Number(p.priceCents) }, { sagaId: p.id }));
}
