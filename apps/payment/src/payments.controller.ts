import { Controller, Get, Inject, Query } from '@nestjs/common';
import { fromCents } from '@saga/contracts';
import { parseWith } from '@saga/nest-kit';
import type { Database } from '@saga/postgres';
import { z } from 'zod';
import { PaymentRepository } from './payment.repository';

/** Injection token of the payment database. */
export const PAYMENT_DB = Symbol('PAYMENT_DB');

const LedgerQuery = z.object({ orderId: z.string().min(1).max(100) });

/** `GET /api/payments?orderId=`: the payment ledger rows of one order, oldest first. */
@Controller('api/payments')
export class PaymentsController {
  private readonly repo = new PaymentRepository();

  constructor(@Inject(PAYMENT_DB) private readonly db: Database) {}

  @Get()
  async ledger(@Query() query: unknown) {
    const { orderId } = parseWith(LedgerQuery, query, 'query');
    const rows = await this.repo.ledgerOfOrder(this.db, orderId);
    return rows.map((r) => ({
      paymentId: r.paymentId,
      type: r.type,
      status: r.status,
      amount: fromCents(r.amountCents),
      currency: r.currency,
      description: r.description,
      createdAt: r.createdAt.toISOString(),
    }));
  }
}
