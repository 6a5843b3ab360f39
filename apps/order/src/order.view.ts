import { fromCents } from '@saga/contracts';
import type { OrderDetails } from './order.repository';

/** The public JSON shape of an order (money as decimals). */
export function orderView(o: OrderDetails) {
  return {
    id: o.id,
    customerId: o.customerId,
    status: o.status,
    statusInfo: o.statusInfo,
    totalPrice: fromCents(o.amountCents),
    currency: o.currency,
    orderItems: o.items.map((i) => ({
      productId: i.productId,
      quantity: i.quantity,
      unitPrice: fromCents(i.unitPriceCents),
      totalPrice: fromCents(i.unitPriceCents * i.quantity),
    })),
    statusHistory: o.history.map((h) => ({ status: h.status, statusInfo: h.statusInfo, at: h.at.toISOString() })),
    createdAt: o.createdAt.toISOString(),
    updatedAt: o.updatedAt.toISOString(),
  };
}
export type OrderView = ReturnType<typeof orderView>;
