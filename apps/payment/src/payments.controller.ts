import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import { fromCents } from '@saga/contracts';
import { decodeCursor, setNextLink, PAGE_QUERY, pageOf, parseWith } from '@saga/nest-kit';
import type { Database } from '@saga/postgres';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { PaymentRepository } from './payment.repository';

/** Injection token of the payment database. */
export const PAYMENT_DB = Symbol('PAYMENT_DB');

const LedgerQuery = z.strictObject({ orderId: z.string().min(1).max(100), ...PAGE_QUERY });

/** `GET /api/payments?orderId=`: the payment ledger rows of one order, keyset-paged (oldest first by default). */
@Controller('api/payments')
export class PaymentsController {
  private readonly repo = new PaymentRepository();

  constructor(@Inject(PAYMENT_DB) private readonly db: Database) {}

  @Get()
  async ledger(@Query() query: unknown, @Req() req: FastifyRequest, @Res({ passthrough: true }) res: FastifyReply) {
    const q = parseWith(LedgerQuery, query, 'query');
    const afterId = decodeCursor(q.cursor, 1)?.map(Number)[0];
    const rows = await this.repo.ledgerOfOrder(this.db, q.orderId, { limit: q.limit + 1, afterId, sort: q.sort });
    const page = pageOf(rows, q.limit, (r) => [r.id]);
    setNextLink(req, res, page);
    return { ...page, items: page.items.map((r) => ({
      paymentId: r.paymentId,
      type: r.type,
      status: r.status,
      amount: fromCents(r.amountCents),
      currency: r.currency,
      description: r.description,
      createdAt: r.createdAt.toISOString(),
    })) };
  }
}
