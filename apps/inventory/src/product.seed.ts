import type { Queryable } from '@saga/postgres';

export interface NewProduct {
  id: string;
  name: string;
  type: string;
  priceCents: number;
  available: number;
}

/** The catalog of the NestJS Kafka Saga README; P001 has a single laptop. */
export const PRODUCT_SEED: readonly NewProduct[] = [
  { id: 'P001', name: 'Laptop', type: 'ELECTRONICS', priceCents: 99_999, available: 1 },
  { id: 'P002', name: 'Smartphone', type: 'ELECTRONICS', priceCents: 69_999, available: 10 },
  { id: 'P003', name: 'Headphones', type: 'ELECTRONICS', priceCents: 14_999, available: 25 },
  { id: 'P004', name: 'Coffee Maker', type: 'HOME', priceCents: 8_999, available: 15 },
  { id: 'P005', name: 'Running Shoes', type: 'SPORTS', priceCents: 11_999, available: 30 },
  { id: 'P006', name: 'Backpack', type: 'ACCESSORIES', priceCents: 5_999, available: 40 },
  { id: 'P007', name: 'Desk Chair', type: 'FURNITURE', priceCents: 24_999, available: 8 },
  { id: 'P008', name: 'Water Bottle', type: 'SPORTS', priceCents: 1_999, available: 100 },
  { id: 'P009', name: 'Wireless Mouse', type: 'ELECTRONICS', priceCents: 2_999, available: 60 },
  { id: 'P010', name: 'Fitness Tracker', type: 'ELECTRONICS', priceCents: 7_999, available: 55 },
];

/** Creates the seed products that do not exist yet; existing rows (and their stock) are never touched. */
export async function seedProducts(db: Queryable): Promise<number> {
  const res = await db.query(
    `INSERT INTO products (id, name, type, price_cents, available)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::int[])
     ON CONFLICT (id) DO NOTHING`,
    [
      PRODUCT_SEED.map((p) => p.id),
      PRODUCT_SEED.map((p) => p.name),
      PRODUCT_SEED.map((p) => p.type),
      PRODUCT_SEED.map((p) => p.priceCents),
      PRODUCT_SEED.map((p) => p.available),
    ],
  );
  return res.rowCount ?? 0;
}
