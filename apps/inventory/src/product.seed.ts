import type { Queryable } from '@saga/postgres';

export interface NewProduct {
  id: string;
  name: string;
  type: string;
  priceCents: number;
  available: number;
}

/**
 * The catalog of the NestJS Kafka Saga README, exactly as DESIGN §3 gives it (id, name, price,
 * stock); the product types are ours. P001 has a single laptop.
 */
export const PRODUCT_SEED: readonly NewProduct[] = [
  { id: 'P001', name: 'Laptop', type: 'ELECTRONICS', priceCents: 99_999, available: 1 },
  { id: 'P002', name: 'Smartphone', type: 'ELECTRONICS', priceCents: 59_999, available: 100 },
  { id: 'P003', name: 'Wireless Headphones', type: 'AUDIO', priceCents: 8_999, available: 75 },
  { id: 'P004', name: 'Smartwatch', type: 'WEARABLES', priceCents: 12_999, available: 30 },
  { id: 'P005', name: '4K Smart TV', type: 'ELECTRONICS', priceCents: 79_999, available: 20 },
  { id: 'P006', name: 'Gaming Console', type: 'GAMING', priceCents: 29_999, available: 40 },
  { id: 'P007', name: 'Coffee Maker', type: 'HOME', priceCents: 4_999, available: 60 },
  { id: 'P008', name: 'Bluetooth Speaker', type: 'AUDIO', priceCents: 6_999, available: 80 },
  { id: 'P009', name: 'Digital Camera', type: 'ELECTRONICS', priceCents: 44_999, available: 25 },
  { id: 'P010', name: 'Fitness Tracker', type: 'WEARABLES', priceCents: 7_999, available: 55 },
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
