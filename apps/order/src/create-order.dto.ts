import { MoneySchema } from '@saga/contracts';
import { PAGE_QUERY } from '@saga/nest-kit';
import { z } from 'zod';

const OrderItemInput = z.strictObject({
  productId: z.string().min(1).max(64),
  quantity: z.number().int().positive().max(1000),
  /** Optional client total of the line; must agree with the catalog (price × quantity). */
  totalPrice: MoneySchema.nonnegative().optional(),
});

/**
 * Body of `POST /orders` (the seed one-call flow) and `POST /api/orders` (create, INITIATED).
 *
 * @example
 * { "customerId": "CUS_0001", "orderItems": [{ "productId": "P001", "quantity": 1, "totalPrice": 999.99 }] }
 */
export const CreateOrderSchema = z.strictObject({
  customerId: z.string().min(1).max(64),
  orderItems: z
    .array(OrderItemInput)
    .min(1)
    .max(50)
    .refine((items) => new Set(items.map((i) => i.productId)).size === items.length, {
      message: 'each product may appear once',
    }),
});
export type CreateOrderInput = z.infer<typeof CreateOrderSchema>;

export const PayOrderSchema = z.strictObject({ orderId: z.string().min(1).max(64) });

export const UpdateStatusSchema = z.strictObject({ status: z.enum(['ON_WAY', 'DELIVERED']) });

/**
 * `GET /api/orders`: a customer's orders by creation, oldest first (`sort=asc`, so orders created
 * while a client pages show up on a later page) or newest first (`sort=desc`), keyset-paged.
 * Strict: a parameter it does not know (e.g. the `offset` of before) is a 400 naming it.
 */
export const ListOrdersQuery = z.strictObject({
  customerId: z.string().min(1).max(64),
  ...PAGE_QUERY,
});
