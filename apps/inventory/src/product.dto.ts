import { MoneySchema } from '@saga/contracts';
import { z } from 'zod';

/** Body of `POST /internal/products` (bench and tests create their own products). */
export const CreateProductSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, _ . or -'),
  name: z.string().trim().min(1).max(200),
  type: z.string().trim().min(1).max(50),
  price: MoneySchema.nonnegative().max(10_000_000),
  available: z.number().int().nonnegative().max(1_000_000_000),
});
