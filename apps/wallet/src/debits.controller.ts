import { Body, Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { parseWith } from '@saga/nest-kit';
import { CreateWalletSchema, DebitBatchSchema, DebitSchema, ReverseSchema } from './wallet.dto';
import { WalletService } from './wallet.service';
import { walletView } from './wallet.view';

/**
 * Internal API (payment service, bench, tests); not routed by the gateway.
 * `POST /internal/debits` is idempotent by payment id; `.../reverse` is reverse-if-applied;
 * `POST /internal/debits/batch` applies several debits in one transaction and answers each
 * (`{results: [{paymentId, status, body}]}`, status and body as the single call's).
 */
@Controller('internal')
export class DebitsController {
  constructor(@Inject(WalletService) private readonly wallets: WalletService) {}

  @Post('debits')
  @HttpCode(200)
  debit(@Body() body: unknown) {
    return this.wallets.debit(parseWith(DebitSchema, body));
  }

  @Post('debits/batch')
  @HttpCode(200)
  async debitBatch(@Body() body: unknown) {
    return { results: await this.wallets.debitMany(parseWith(DebitBatchSchema, body).debits) };
  }

  @Post('debits/:paymentId/reverse')
  @HttpCode(200)
  reverse(@Param('paymentId') paymentId: string, @Body() body: unknown) {
    return this.wallets.reverse(paymentId, parseWith(ReverseSchema, body ?? undefined)?.description);
  }

  @Post('wallets')
  @HttpCode(201)
  async create(@Body() body: unknown) {
    const w = parseWith(CreateWalletSchema, body);
    return walletView(await this.wallets.create(w.customerId, w.balance, w.currency));
  }
}
